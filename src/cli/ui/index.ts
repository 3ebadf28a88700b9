// The interactive UI of lychd-crypt: the only module that imports @clack/prompts.
export { askConfirm, askSelect, askText, askTypedConfirm, type Choice, type PromptIo } from './prompts.js';
export { askCryptPath, askInitAnswers } from './wizard.js';
export { askAnswers, confirmPlan, erasesData, showSummary, type WizardOptions } from './init-flow.js';
export { spinnerReporter } from './progress.js';
