// One argument parser for every command of the workshop: a thin layer on node:util parseArgs that
// adds what each command needs the same way.
//   - `-h`/`--help` prints the usage and exits 0 (HelpRequested);
//   - an unknown option, a missing or wrong value, a stray argument: the problem in one line, then
//     the usage, exit 2 (UsageError);
//   - a problem the learner can fix (CliError, exit 1), the environment's (3), a bug (4): errors.ts;
//   - an option npm took for itself (no `--` before it): a usage error giving the line with `--`.
// The usage text is generated from the same spec the parser reads, so they cannot disagree.
//
//   const cli = defineCli({
//     command: 'npm run reset',
//     synopsis: ['npm run reset -- <1-9> [--yes]'],
//     summary: 'Puts the starter of milestone N back as shipped.',
//     positionals: { name: '<1-9>', description: 'the milestone', min: 1, max: 1 },
//     options: { yes: { type: 'boolean', short: 'y', description: 'do not ask first' } },
//   });
//   await runMain(async () => {
//     const { values, positionals } = cli.parse(process.argv.slice(2));
//     ...
//     return 0;
//   });
import { parseArgs } from 'node:util';
import { HelpRequested, UsageError } from './errors.ts';
import { optionsTakenByNpm } from './npm-flags.ts';
import { exitWith } from './run-main.ts';

// The command-line toolkit in one import: the error model (errors.ts) and the runner (run-main.ts).
export { CliError, EnvironmentError, HelpRequested, UsageError, WorkshopBug, WorkshopError } from './errors.ts';
export { exitWith, formatError, runMain } from './run-main.ts';

export interface CliOption {
  type: 'boolean' | 'string';
  short?: string;
  /** What it does, one line, for the usage. */
  description: string;
  /** The value's placeholder in the usage, e.g. `<file>` (string options; default `<value>`). */
  value?: string;
  /** The only values accepted (string options); anything else is a usage error naming them. */
  choices?: readonly string[];
  /** The value when the option is not given. */
  default?: string | boolean;
  /**
   * A string option whose value may be left out (`--json` alone, or `--json=<file>`): given bare,
   * it takes this value. `--json <next>` takes `<next>` only when `takesNext(next)` says so.
   */
  optionalValue?: { bare: string; takesNext?: (next: string) => boolean };
}

export interface CliSpec {
  /** How it is run, e.g. `npm run reset`: the prefix of every problem it reports. */
  command: string;
  /** The usage lines, e.g. `npm run reset -- <1-9> [--yes]`. */
  synopsis: readonly string[];
  /** What the command does, a sentence or a few lines. */
  summary: string;
  options?: Record<string, CliOption>;
  /** Arguments that are not options (default: at most one; none without this). `choices`: the only ones accepted. */
  positionals?: { name: string; description?: string; min?: number; max?: number; choices?: readonly string[] };
  /** Accept anything after a bare `--` and hand it over as `rest`, e.g. `<git diff options>`. */
  passthrough?: { name: string; description: string };
  /** More lines after the options: examples, exit codes, what --yes means without a terminal. */
  notes?: string;
}

type OptionValue<O extends CliOption> = O extends { type: 'boolean' } ? boolean : O extends { choices: readonly (infer C)[] } ? C : string;
type OptionValues<O extends Record<string, CliOption> | undefined> =
  O extends Record<string, CliOption>
    ? { [K in keyof O]: O[K] extends { default: string | boolean } ? OptionValue<O[K]> : OptionValue<O[K]> | undefined }
    : Record<string, never>;

export interface ParsedArgs<S extends CliSpec> {
  values: OptionValues<S['options']>;
  positionals: string[];
  /** What followed a bare `--` (with `passthrough` only). */
  rest: string[];
}

export interface Cli<S extends CliSpec> {
  spec: S;
  /** The usage text: synopsis, summary, arguments, options (with -h, --help), notes. */
  usage: string;
  /**
   * Parses `argv` (without node and the script). Throws HelpRequested or UsageError, also when npm
   * took some of its options for itself (`npm run grade 1 --target solutions`, without `--`: see
   * npm-flags.ts), which `env` tells.
   */
  parse(argv: readonly string[], env?: NodeJS.ProcessEnv): ParsedArgs<S>;
  /** A UsageError for a problem the parser cannot see (e.g. "no milestone 42"), with this usage. */
  usageError(problem: string): UsageError;
}

const HELP: CliOption = { type: 'boolean', short: 'h', description: 'show this help' };

function optionLabel(name: string, option: CliOption): string {
  const short = option.short ? `-${option.short}, ` : '    ';
  if (option.type === 'boolean') return `${short}--${name}`;
  const value = option.value ?? (option.choices ? option.choices.join('|') : '<value>');
  return option.optionalValue ? `${short}--${name}[=${value}]` : `${short}--${name} ${value}`;
}

export function renderUsage(spec: CliSpec): string {
  const options: Record<string, CliOption> = { ...spec.options, help: HELP };
  const rows: Array<[string, string]> = [];
  if (spec.positionals) rows.push([`    ${spec.positionals.name}`, spec.positionals.description ?? '']);
  if (spec.passthrough) rows.push([`    -- ${spec.passthrough.name}`, spec.passthrough.description]);
  const argumentRows = rows.length;
  for (const [name, option] of Object.entries(options)) {
    const extras = [
      option.default !== undefined && option.type === 'string' ? `default ${option.default}` : '',
      option.optionalValue ? `given alone: ${option.optionalValue.bare}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    rows.push([optionLabel(name, option), `${option.description}${extras ? ` (${extras})` : ''}`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const line = ([label, text]: [string, string]) => `  ${label.padEnd(width)}${text}`.trimEnd();
  const lines = [
    `Usage: ${spec.synopsis[0] ?? spec.command}`,
    ...spec.synopsis.slice(1).map((s) => `       ${s}`),
    '',
    spec.summary.trim(),
    '',
  ];
  if (argumentRows > 0) lines.push('Arguments:', ...rows.slice(0, argumentRows).map(line), '');
  lines.push('Options:', ...rows.slice(argumentRows).map(line));
  if (spec.notes) lines.push('', spec.notes.trim());
  return lines.join('\n');
}

/** parseArgs' messages, in one short line each ("unknown option --x", "--target needs a value"). */
function describeParseError(error: unknown, spec: CliSpec): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const option = message.match(/'(-{1,2}[^' ]+)/)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? message}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const value = message.match(/positional argument '([^']*)'/)?.[1];
    return spec.positionals ? `unexpected argument ${value}` : `${spec.command} takes no arguments, only options (got "${value}")`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = message.match(/--([a-z0-9-]+)/i)?.[1];
    const declared = name ? spec.options?.[name] : undefined;
    if (declared?.type === 'boolean') return `--${name} takes no value`;
    if (name) return `--${name} needs a value: ${optionLabel(name, declared ?? { type: 'string', description: '' }).trim()}`;
  }
  return message.split('\n')[0] ?? message;
}

/** `--json` alone becomes `--json=<bare>`, so parseArgs, which needs a value, gets one. */
function fillOptionalValues(argv: readonly string[], options: Record<string, CliOption>): string[] {
  const out: string[] = [];
  const byFlag = new Map<string, [string, CliOption]>();
  for (const [name, option] of Object.entries(options)) {
    byFlag.set(`--${name}`, [name, option]);
    if (option.short) byFlag.set(`-${option.short}`, [name, option]);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const found = byFlag.get(arg);
    if (found?.[1].type === 'string') {
      const [name, option] = found;
      const next = argv[i + 1];
      if (option.optionalValue) {
        const takes = next !== undefined && !next.startsWith('-') && (option.optionalValue.takesNext?.(next) ?? false);
        if (takes) {
          out.push(`--${name}=${next}`);
          i++;
        } else out.push(`--${name}=${option.optionalValue.bare}`);
        continue;
      }
      out.push(arg); // a value follows: copy it as is, so it is never read as an option of ours
      if (next !== undefined) out.push(next);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

export function defineCli<const S extends CliSpec>(spec: S): Cli<S> {
  const usage = renderUsage(spec);
  const usageError = (problem: string) => new UsageError(problem, usage, spec.command);
  const declared: Record<string, CliOption> = { ...spec.options, help: HELP };
  const config = Object.fromEntries(
    Object.entries(declared).map(([name, option]) => [name, { type: option.type, ...(option.short ? { short: option.short } : {}) }]),
  );

  function parse(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs<S> {
    // --help wins over every other problem on the line (before the first bare --).
    const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
    if (own.includes('--help') || own.includes('-h')) throw new HelpRequested(usage);
    // Then an option npm kept for itself: what we were given is not what was typed.
    const takenByNpm = optionsTakenByNpm(spec.command, spec.options ?? {}, argv, env);
    if (takenByNpm !== undefined) throw usageError(takenByNpm);

    const parsed = (() => {
      try {
        return parseArgs({ args: fillOptionalValues(argv, declared), options: config, allowPositionals: true, strict: true, tokens: true });
      } catch (error) {
        throw usageError(describeParseError(error, spec));
      }
    })();
    const terminator = parsed.tokens.find((token) => token.kind === 'option-terminator')?.index;
    const positionals: string[] = [];
    const rest: string[] = [];
    for (const token of parsed.tokens) {
      if (token.kind !== 'positional') continue;
      if (terminator !== undefined && token.index > terminator && spec.passthrough) rest.push(token.value);
      else positionals.push(token.value);
    }

    const { min = 0, max = spec.positionals ? 1 : 0, choices } = spec.positionals ?? {};
    if (positionals.length > max) {
      const extra = positionals[max] as string;
      if (max === 0) throw usageError(`${spec.command} takes no arguments, only options (got "${extra}")`);
      throw usageError(
        max === 1 ? `one ${spec.positionals?.name} at a time (got "${positionals.join('", "')}")` : `unexpected argument "${extra}"`,
      );
    }
    if (positionals.length < min) throw usageError(`which ${spec.positionals?.name}?${choices ? ` Choose ${choices.join(', ')}.` : ''}`);
    const wrong = choices ? positionals.find((value) => !choices.includes(value)) : undefined;
    if (wrong !== undefined) throw usageError(`there is no ${spec.positionals?.name} "${wrong}": choose ${choices?.join(', ')}`);

    const values: Record<string, string | boolean | undefined> = {};
    for (const [name, option] of Object.entries(spec.options ?? {})) {
      const value = (parsed.values as Record<string, string | boolean | undefined>)[name] ?? option.default;
      if (typeof value === 'string' && option.choices && !option.choices.includes(value)) {
        throw usageError(`--${name} takes ${option.choices.map((c) => `"${c}"`).join(' or ')}, not "${value}"`);
      }
      values[name] = value;
    }
    return { values: values as OptionValues<S['options']>, positionals, rest };
  }

  return { spec, usage, parse, usageError };
}

/** For a top-level parse in a script with side effects at import: help or a usage error exits here. */
export function parseOrExit<S extends CliSpec>(cli: Cli<S>, argv: readonly string[] = process.argv.slice(2)): ParsedArgs<S> {
  try {
    return cli.parse(argv);
  } catch (error) {
    exitWith(error);
  }
}
