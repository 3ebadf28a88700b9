// Writes the man page and the completion files, made from the command tree, into OUTDIR (default dist/):
//   OUTDIR/man/lychd-crypt.1, OUTDIR/completion/lychd-crypt (bash), OUTDIR/completion/_lychd-crypt (zsh),
//   OUTDIR/completion/lychd-crypt.fish (fish).
// Run: node scripts/run-ts.mjs packaging/docs.ts [OUTDIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { programTree } from '../src/cli/program.js';
import { renderBash, renderFish, renderZsh } from '../src/cli/docs/completion.js';
import { describeProgram } from '../src/cli/docs/describe.js';
import { renderMan } from '../src/cli/docs/man.js';
import { VERSION } from '../src/base/version.js';
import { parseChangelog } from './changelog.js';

export interface DocFiles {
  man: string;
  bash: string;
  zsh: string;
  fish: string;
}

export async function renderDocs(changelogText: string): Promise<DocFiles> {
  const latest = parseChangelog(changelogText)[0]!;
  if (latest.version !== VERSION) throw new Error(`CHANGELOG.md's newest entry is ${latest.version}, package.json says ${VERSION}`);
  const doc = describeProgram(await programTree());
  return { man: renderMan({ doc, version: VERSION, date: latest.date }), bash: renderBash(doc), zsh: renderZsh(doc), fish: renderFish(doc) };
}

export function writeDocs(outDir: string, files: DocFiles): string[] {
  const out = {
    [path.join(outDir, 'man', 'lychd-crypt.1')]: files.man,
    [path.join(outDir, 'completion', 'lychd-crypt')]: files.bash,
    [path.join(outDir, 'completion', '_lychd-crypt')]: files.zsh,
    [path.join(outDir, 'completion', 'lychd-crypt.fish')]: files.fish,
  };
  for (const [file, text] of Object.entries(out)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return Object.keys(out);
}

export async function main(args: string[]): Promise<void> {
  const written = writeDocs(path.resolve(args[0] ?? 'dist'), await renderDocs(readFileSync('CHANGELOG.md', 'utf8')));
  for (const f of written) process.stderr.write(`wrote ${path.relative(process.cwd(), f)}\n`);
}
