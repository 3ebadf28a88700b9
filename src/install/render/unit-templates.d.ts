// templates/*.service and *.timer are imported as text (esbuild loader in scripts/build.mjs; a load hook
// in vitest.config.ts).
declare module '*.service' {
  const text: string;
  export default text;
}
declare module '*.timer' {
  const text: string;
  export default text;
}
