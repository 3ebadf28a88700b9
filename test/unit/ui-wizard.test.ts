// The UI module with scripted keystrokes (clack takes injectable streams): cancel is one typed error,
// the typed confirmation only accepts the device path, and the wizard asks what the method needs.
import { readFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CancelledError, ExitCode } from '../../src/base/errors.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { answersSchema, type AnswersInput } from '../../src/install/answers/schema.js';
import { askConfirm, askCryptPath, askInitAnswers, askSelect, askText, askTypedConfirm, confirmPlan, erasesData, spinnerReporter, type PromptIo } from '../../src/cli/ui/index.js';
import { detectFor, planInit, resolveConfig } from '../../src/install/init.js';
import { RecordingRunner } from '../../src/base/runner.js';

/** Streams that type `keys` each time the output shows the matching active question (◆). */
function scripted(steps: [RegExp, string][]): PromptIo & { asked: () => string[]; screen: () => string } {
  const input = new PassThrough();
  let pending = '';
  let all = '';
  let i = 0;
  const asked: string[] = [];
  const output = new Writable({
    write(chunk, _enc, done) {
      pending += chunk.toString();
      all += chunk.toString();
      const step = steps[i];
      if (step && step[0].test(pending)) {
        i++;
        asked.push(String(step[0]));
        pending = '';
        setImmediate(() => input.write(step[1]));
      }
      done();
    },
  });
  return { input, output, asked: () => asked, screen: () => all };
}

const ENTER = '\r';
/** Enter from the persistence question through PostgreSQL's connection: every default kept. */
const ENTER_FROM_PERSIST: [RegExp, string][] = [
  [/◆ {2}How should the mount be made permanent\?/, '\r'],
  [/◆ {2}Will the crypt hold a PostgreSQL data directory/, '\r'],
  [/◆ {2}PostgreSQL OS user/, '\r'],
  [/◆ {2}How should a rollback stop and start PostgreSQL\?/, '\r'],
  [/◆ {2}Connect through/, '\r'],
];
const CTRL_C = '\x03';
const DOWN = '\x1b[B';

describe('prompt wrappers', () => {
  it('answers come back typed; Ctrl-C is CancelledError (exit 130, nothing was changed)', async () => {
    expect(await askConfirm('Go?', scripted([[/◆ {2}Go\?/, `y${ENTER}`]]))).toBe(true);
    expect(await askConfirm('Go?', { ...scripted([[/◆ {2}Go\?/, ENTER]]), initialValue: false })).toBe(false);
    expect(await askSelect('Pick', [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }], scripted([[/◆ {2}Pick/, DOWN + ENTER]]))).toBe('b');
    expect(await askText('Name', { ...scripted([[/◆ {2}Name/, ENTER]]), defaultValue: 'dflt' })).toBe('dflt');
    expect(await askText('Name', { ...scripted([[/◆ {2}Name/, `mine${ENTER}`]]), defaultValue: 'dflt' })).toBe('mine');
    for (const ask of [
      (io: PromptIo) => askConfirm('Go?', io),
      (io: PromptIo) => askSelect('Go?', [{ value: 'a', label: 'A' }], io),
      (io: PromptIo) => askText('Go?', io),
    ]) {
      const err = await ask(scripted([[/◆ {2}Go\?/, CTRL_C]])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledError);
      expect((err as CancelledError).exitCode).toBe(ExitCode.cancelled);
      expect((err as CancelledError).message).toBe('cancelled, nothing was changed');
    }
  });

  it('a yes/no question waits for Enter: `n` chooses No, and the Enter after it does not answer the next question', async () => {
    const io = scripted([
      [/◆ {2}Go\?/, 'n'],
      [/● No/, ENTER],
      [/◆ {2}Name/, `mine${ENTER}`],
    ]);
    expect(await askConfirm('Go?', io)).toBe(false);
    expect(await askText('Name', { ...io, defaultValue: 'dflt' })).toBe('mine');
    expect(io.asked()).toHaveLength(3);
  });

  it('the typed confirmation accepts only the device path; Enter or anything else declines', async () => {
    const q = /◆ {2}\/dev\/sdz1 holds ext4, label precious\. Formatting ERASES it/;
    expect(await askTypedConfirm('/dev/sdz1', 'ext4, label precious', scripted([[q, `/dev/sdz1${ENTER}`]]))).toBe(true);
    expect(await askTypedConfirm('/dev/sdz1', 'ext4, label precious', scripted([[q, ENTER]]))).toBe(false);
    expect(await askTypedConfirm('/dev/sdz1', 'ext4, label precious', scripted([[q, `yes${ENTER}`]]))).toBe(false);
    await expect(askTypedConfirm('/dev/sdz1', 'ext4, label precious', scripted([[q, CTRL_C]]))).rejects.toBeInstanceOf(CancelledError);
  });

  it('a validation error keeps the prompt open until the answer is valid', async () => {
    const io = scripted([
      [/◆ {2}Size/, `twenty${ENTER}`],
      [/Expected a size/, `\x15512M${ENTER}`],
    ]);
    const v = await askText('Size', { ...io, validate: (s) => (/^\d+M$/.test(s) ? undefined : 'Expected a size like 512M') });
    expect(v).toBe('512M');
  });
});

const ext4Facts = (): HostFacts => JSON.parse(readFileSync(new URL('../fixtures/init/facts-ext4-host.json', import.meta.url), 'utf8')) as HostFacts;

describe('askCryptPath', () => {
  it('Enter keeps the detected path; ~ is the target user\'s home; a relative path is refused', async () => {
    const facts = { ...ext4Facts(), user: { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' } };
    const q = /◆ {2}Where should the crypt live\? \(for alice\)/;
    expect(await askCryptPath(facts, scripted([[q, ENTER]]))).toBe(facts.cryptPath);
    expect(await askCryptPath(facts, scripted([[q, `~/data/lychd${ENTER}`]]))).toBe('/home/alice/data/lychd');
    const io = scripted([
      [q, `data${ENTER}`],
      [/The crypt path must be an absolute path/, `\x15/srv/lychd/${ENTER}`],
    ]);
    expect(await askCryptPath(facts, io)).toBe('/srv/lychd');    // System directories and the home itself are refused at the question.
    const sys = scripted([
      [q, `/etc${ENTER}`],
      [/\/etc is a system directory: choose a dedicated directory/, `\x15/usr/${ENTER}`],
      [/\/usr is a system directory/, `\x15~${ENTER}`],
      [/\/home\/alice is the home directory itself/, `\x15/srv/lychd${ENTER}`],
    ]);
    expect(await askCryptPath(facts, sys)).toBe('/srv/lychd');
    expect(sys.asked()).toHaveLength(4);
  });
});

describe('askInitAnswers', () => {
  it('ext4 host: proposes loopback, asks image, size, persistence and PostgreSQL', async () => {
    const facts = ext4Facts();
    const io = scripted([
      [/◆ {2}How should the crypt get its Btrfs filesystem\?/, ENTER],
      [/◆ {2}Image file/, ENTER],
      // 252M free on the host: 300M is refused at the question, which asks again (and nothing before it).
      [/◆ {2}Image size[^◆]*252\.1M free on\s+\/srv\/t\/host/, `300M${ENTER}`],
      [/300M does not fit: \/srv\/t\/host has 252\.1M free; try 192M/, `\x15200M${ENTER}`],
      [/◆ {2}How should the mount be made permanent\?/, ENTER],
      [/◆ {2}Will the crypt hold a PostgreSQL data directory/, `y${ENTER}`],
      [/◆ {2}PostgreSQL OS user/, ENTER],
      [/◆ {2}How should a rollback stop and start PostgreSQL\?/, DOWN + ENTER],
      [/◆ {2}The PostgreSQL systemd unit/, `postgresql@15-main.service${ENTER}`],
      [/◆ {2}Is it a unit of the crypt user’s own systemd/, `n${ENTER}`],
      [/◆ {2}Connect through \/var\/run\/postgresql, port 5432/, `n${ENTER}`],
      [/◆ {2}Socket directory or host/, `run/pg${ENTER}`],
      [/A socket directory must be an absolute path/, `\x15/run/pg${ENTER}`],
      [/◆ {2}Port/, `5433${ENTER}`],
      // "No" asks the role and the database too (issue 24).
      [/◆ {2}Role/, ENTER],
      [/◆ {2}Database/, ENTER],
      // A loopback crypt is offered the outside WAL (issue 30), the trade-off in the question; the
      // directory is proposed, and one inside the crypt is refused at the question.
      [/◆ {2}Keep the live WAL \(pg_wal\) on the host's own filesystem\?/, `y${ENTER}`],
      [/◆ {2}Directory for the live WAL[^◆]*\/var\/lib\/lychd-wal\/\w+/, `/srv/t/host/data/crypt/wal${ENTER}`],
      [/It must be outside the crypt \(\/srv\/t\/host\/data\/crypt\)/, `\x15/srv/t/wal${ENTER}`],
    ]);
    const answers = await askInitAnswers(facts, { version: 1, persist: { fstab: '/srv/t/fstab' } }, io);
    expect(io.screen()).toMatch(/Proposed: loopback, because \/srv\/t\/host\/data\/crypt is on ext4/);
    expect(io.screen().replace(/[\s│]+/g, ' ')).toMatch(/about 0\.5× inside the image\); snapshots stay whole, but between snapshots the crypt alone no longer holds the newest WAL/);
    expect(io.screen()).not.toMatch(/native/);
    expect(io.asked().filter((q) => q.includes('Image file'))).toHaveLength(1);
    // The proposed size fits: 80% of the free space, rounded down.
    expect(io.screen()).toMatch(/Image size[^◆]*192M/);
    expect(answers).toEqual({
      version: 1,
      crypt: { path: '/srv/t/host/data/crypt' },
      method: 'loopback',
      loopback: { image: '/srv/t/host/img/crypt.img', size: '200M' },
      persist: { fstab: '/srv/t/fstab', via: 'fstab' },
      postgres: {
        enabled: true,
        osUser: 'postgres',
        service: { kind: 'systemd', unit: 'postgresql@15-main.service', user: false },
        connection: { host: '/run/pg', port: 5433, user: 'postgres', database: 'postgres' },
        walDir: '/srv/t/wal',
      },
    });
  });

  it('one interactive init detects once: the answers given are checked on the facts they were asked on', async () => {
    const facts = ext4Facts();
    const io = scripted([
      [/◆ {2}How should the crypt get its Btrfs filesystem\?/, ENTER],
      [/◆ {2}Image file/, ENTER],
      [/◆ {2}Image size/, ENTER],
      ...ENTER_FROM_PERSIST,
      [/◆ {2}Keep the live WAL/, ENTER],
    ]);
    const base = answersSchema.parse({ version: 1 });
    const answers = answersSchema.parse(await askInitAnswers(facts, base, io));
    // Any command would be a detection: the runner refuses them all.
    const runner = new RecordingRunner(() => undefined);
    const asked = { answers: base, facts };
    expect(await detectFor(answers, { runner, env: {} }, asked)).toBe(facts);
    expect(runner.calls).toEqual([]);
    // Answers that look elsewhere (another image) are detected again.
    await expect(detectFor({ ...answers, loopback: { ...answers.loopback!, image: '/srv/t/elsewhere/crypt.img' } }, { runner, env: {} }, asked)).rejects.toThrow(/unexpected command/);
    expect(runner.calls.length).toBeGreaterThan(0);
  });

  it('Btrfs host: proposes native and asks neither image nor persistence', async () => {
    const facts: HostFacts = { ...ext4Facts(), hostFs: { ...ext4Facts().hostFs, fstype: 'btrfs' } };
    const io = scripted([
      [/◆ {2}How should the crypt get its Btrfs filesystem\?/, ENTER],
      [/◆ {2}Will the crypt hold a PostgreSQL data directory/, `n${ENTER}`],
    ]);
    const answers = await askInitAnswers(facts, { version: 1, loopback: { size: '1G' } }, io);
    expect(io.screen()).toMatch(/Proposed: native/);
    expect(answers).toEqual({ version: 1, crypt: { path: facts.cryptPath }, method: 'native', postgres: { enabled: false } });
  });

  it("a podman container of the user that keeps its data in the crypt is offered; taken, it is all PostgreSQL's answers; declined, the usual questions", async () => {
    const inspect = JSON.parse(readFileSync(new URL('../fixtures/podman/inspect-keep-id.json', import.meta.url), 'utf8'))[0];
    const { parseInspect } = await import('../../src/base/container/podman.js');
    const container = parseInspect(inspect); // its PGDATA is /srv/t/host/data/crypt/active/postgres
    const facts: HostFacts = {
      ...ext4Facts(),
      hostFs: { ...ext4Facts().hostFs, fstype: 'btrfs' },
      user: { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
      podman: { containers: [container], why: null, owner: { uid: 1000, gid: 1000, subuids: [], subgids: [] } },
    };
    const offer = /◆ {2}PostgreSQL: use alice's podman container lychd-phylactery \(it keeps its data/;
    const taken = await askInitAnswers(facts, { version: 1 }, scripted([[/◆ {2}How should the crypt get its Btrfs filesystem\?/, ENTER], [offer, ENTER]]));
    expect(taken.postgres).toEqual({ enabled: true, container: { engine: 'podman', name: 'lychd-phylactery' }, dir: 'postgres' });
    const io = scripted([
      [/◆ {2}How should the crypt get its Btrfs filesystem\?/, ENTER],
      [offer, `n${ENTER}`],
      [/◆ {2}Will the crypt hold a PostgreSQL data directory/, `n${ENTER}`],
    ]);
    const declined = await askInitAnswers(facts, { version: 1, postgres: { container: { name: 'lychd-phylactery' } } }, io);
    expect(declined.postgres).toEqual({ enabled: false });
  });

  it('a registered crypt: method and image kept, every question pre-filled from its registry entry (issue 24)', async () => {
    const facts = ext4Facts();
    const registered = resolveConfig(
      answersSchema.parse({
        version: 1,
        method: 'loopback',
        loopback: { image: '/srv/t/host/img/crypt.img', size: '200M' },
        persist: { via: 'fstab' },
        postgres: { connection: { port: 5433, user: 'app' } },
        retention: { keepLast: 5 },
      }),
      facts,
    );
    const { answersFromConfig } = await import('../../src/install/answers/write.js');
    const base = answersFromConfig(registered);
    const io = scripted([
      [/◆ {2}Image size[^◆]*200M/, ENTER],
      [/◆ {2}How should the mount be made permanent\?[^◆]*● line in fstab/, ENTER],
      [/◆ {2}Will the crypt hold a PostgreSQL data directory/, ENTER],
      [/◆ {2}PostgreSQL OS user[^◆]*postgres/, ENTER],
      [/◆ {2}How should a rollback stop and start PostgreSQL\?/, ENTER],
      [/◆ {2}Connect through \/var\/run\/postgresql, port 5433, as role app/, ENTER],
      [/◆ {2}Keep the live WAL/, ENTER],
    ]);
    const answers = await askInitAnswers({ ...facts, existingConfig: registered }, base, io);
    expect(io.screen()).toMatch(/is the registered crypt "\w+" \(method loopback on \/srv\/t\/host\/img\/crypt\.img\): each question starts from its registered value/);
    expect(io.screen()).not.toMatch(/How should the crypt get its Btrfs filesystem|Image file/);
    // Enter everywhere: the registered definition, unchanged.
    expect(resolveConfig(answersSchema.parse(answers), { ...facts, existingConfig: registered })).toEqual(registered);
  });

  it('a registered crypt whose WAL is outside keeps it: no question, the directory named (the way back is not built)', async () => {
    const facts = ext4Facts();
    const registered = resolveConfig(
      answersSchema.parse({ version: 1, method: 'loopback', loopback: { image: '/srv/t/host/img/crypt.img', size: '200M' }, persist: { via: 'fstab' }, postgres: { walDir: '/srv/t/wal' } }),
      facts,
    );
    const { answersFromConfig } = await import('../../src/install/answers/write.js');
    const io = scripted([
      [/◆ {2}Image size/, ENTER],
      ...ENTER_FROM_PERSIST,
    ]);
    const answers = await askInitAnswers({ ...facts, existingConfig: registered }, answersFromConfig(registered), io);
    expect(io.screen()).toMatch(/The live WAL stays outside the crypt, in \/srv\/t\/wal/);
    expect(io.screen()).not.toMatch(/Keep the live WAL/);
    expect(resolveConfig(answersSchema.parse(answers), { ...facts, existingConfig: registered })).toEqual(registered);
  });

  it('partition: candidates listed with what they hold; wipe stays false (consent is typed later)', async () => {
    const facts: HostFacts = {
      ...ext4Facts(),
      candidateDevices: [
        { path: '/dev/sdb1', description: 'Disk, 100G', sizeBytes: 100 * 2 ** 30, signatures: [] },
        { path: '/dev/sdc1', description: 'Disk, 50G', sizeBytes: 50 * 2 ** 30, signatures: [{ type: 'ext4', label: 'precious' }] },
      ],
    };
    const io = scripted([
      [/◆ {2}How should the crypt get its Btrfs filesystem\?/, DOWN + ENTER],
      [/◆ {2}Which partition should hold the crypt\?/, DOWN + ENTER],
      [/◆ {2}How should the mount be made permanent\?/, ENTER],
      [/◆ {2}Will the crypt hold a PostgreSQL data directory/, `n${ENTER}`],
    ]);
    const answers = await askInitAnswers(facts, { version: 1 }, io);
    // An empty partition is named, but loopback stays preselected; sdc1 is shown with what it holds.
    expect(io.screen()).toMatch(/Also possible: a dedicated partition, because .*\/dev\/sdb1 \(Disk, 100G\) is an empty partition/);
    expect(io.screen()).toMatch(/Proposed: loopback/);
    expect(io.screen()).toMatch(/\/dev\/sdc1.*holds ext4, label precious: it will be ERASED/);
    expect(answers.method).toBe('partition');
    expect(answers.partition).toEqual({ device: '/dev/sdc1', wipe: false });
  });
});

describe('confirmPlan and progress', () => {
  const T = '/srv/t';
  const answers = (over: Partial<AnswersInput>) =>
    answersSchema.parse({ version: 1, crypt: { path: `${T}/host/data/crypt` }, persist: { fstab: `${T}/etc/fstab`, unitDir: `${T}/units` }, install: { binDir: `${T}/bin` }, ...over });
  const planFor = (over: Partial<AnswersInput>) => {
    const facts = ext4Facts();
    return { facts, plan: planInit(facts, resolveConfig(answers(over), facts)) };
  };

  it('a plain plan: a one-screen summary, default Apply; Cancel is a cancel; the full plan on request', async () => {
    const { plan, facts } = planFor({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img`, size: '200M' } });
    expect(erasesData(plan, facts)).toBe(false);
    const io = scripted([[/◆ {2}Apply this plan\?\n[^\n]*● Apply/, ENTER]]);
    await confirmPlan(plan, facts, io);
    expect(io.screen()).toMatch(/crypt \/srv\/t\/host\/data\/crypt for root, method loopback/);
    expect(io.screen()).not.toMatch(/\$ mkfs\.btrfs/);
    await expect(confirmPlan(plan, facts, scripted([[/◆ {2}Apply this plan\?/, `${DOWN}${DOWN}${ENTER}`]]))).rejects.toBeInstanceOf(CancelledError);
    const full = scripted([
      [/◆ {2}Apply this plan\?/, `${DOWN}${ENTER}`],
      [/◆ {2}Apply this plan\?/, ENTER],
    ]);
    await confirmPlan(plan, facts, full);
    expect(full.screen()).toMatch(/\$ mkfs\.btrfs/);
    expect(full.screen()).toMatch(/Plan: crypt at \/srv\/t\/host\/data\/crypt for root, method loopback/);
  });

  it('a plan that formats a device holding data: named in the question, default Cancel', async () => {
    const { plan, facts } = planFor({ method: 'partition', partition: { device: '/dev/loop1', wipe: true } });
    expect(erasesData(plan, facts)).toBe(true);
    const io = scripted([[/◆ {2}Apply this plan\? It FORMATS \/dev\/loop1, erasing ext4, label precious\n[^◆]*● Cancel/, ENTER]]);
    await expect(confirmPlan(plan, facts, io)).rejects.toBeInstanceOf(CancelledError);
    expect(io.screen()).toMatch(/\/dev\/loop1 as Btrfs \(label [^)]*\): ERASES what it holds/);
    await confirmPlan(plan, facts, scripted([[/◆ {2}Apply this plan\? It FORMATS[^◆]*● Cancel/, `${'\x1b[A'}${'\x1b[A'}${ENTER}`]]));
  });

  it('the spinner reporter prints one line per step: done, unchanged, failed', () => {
    const out = scripted([]);
    const r = spinnerReporter(out);
    const step = { kind: 'remove-dir', path: '/x' } as const;
    r.onStep({ index: 0, total: 3, step, title: 'first', status: 'start' });
    r.onStep({ index: 0, total: 3, step, title: 'first', status: 'done' });
    r.onStep({ index: 1, total: 3, step, title: 'second', status: 'start' });
    r.onStep({ index: 1, total: 3, step, title: 'second', status: 'unchanged', detail: 'already there' });
    r.onStep({ index: 2, total: 3, step, title: 'third', status: 'start' });
    r.onStep({ index: 2, total: 3, step, title: 'third', status: 'fail', error: new Error('boom') });
    const screen = out.screen();
    expect(screen).toMatch(/\[1\/3\] first/);
    expect(screen).toMatch(/\[2\/3\] second: unchanged \(already there\)/);
    expect(screen).toMatch(/\[3\/3\] third: FAILED: boom/);
  });
});
