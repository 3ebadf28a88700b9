import { parseAnswers } from '../../src/config/load-answers.js';
import { it } from 'vitest';
const cases: Record<string,string> = {
  methd: 'version: 1\nmethd: loopback\n',
  sise: 'version: 1\nloopback:\n  image: /x.img\n  sise: 20G\n',
  fstb: 'version: 1\npersist: { via: fstab, fstb: /etc/fstab }\n',
  svc: 'version: 1\npostgres:\n  service: { kind: systemd, unti: x }\n',
  hooks: 'version: 1\nretention: { keepLastt: 3 }\n',
  indent3: 'version: 1\ncrypt:\n  path: /a\n   user: bob\nmethd: x\n',
  indentLess: 'version: 1\ncrypt:\n  path: /a\n user: bob\n',
  flowOpen: 'version: 1\ncrypt: { path: /a\n',
  tab: 'version: 1\ncrypt:\n\tpath: /a\n',
  noSpace: 'version: 1\nmethod:loopback\ncrypt:\n  path: /a\n',
  badQuote: 'version: 1\ncrypt: { path: "/a }\n',
  colonVal: 'version: 1\ncrypt:\n  path: /a: b\n',
  twoErr: 'version: 1\ncrypt:\n  path: /a\n   user: bob\nloopback:\n  size: 20G\n   image: /x\n',
  dedentKey: 'version: 1\npostgres:\n  connection:\n    host: /run\n   port: 5\n',
  bare: 'version: 1\nfoo\nmethod: x\n',
};
it("x", () => { for (const [k, t] of Object.entries(cases)) {
  try { parseAnswers(t, 'a.yaml'); console.log(k, 'OK'); } catch (e) { console.log('==', k, '\n' + (e as Error).message); }
} });
