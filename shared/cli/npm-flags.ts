// Options that npm kept for itself. `npm run grade 1 --target solutions` (no `--`) does not pass
// `--target` to the script: npm reads it as its own setting and hands it over as the environment
// variable npm_config_target ("true" when it took no value, as here: "solutions" then reaches the
// script as an argument), `--no-demo` as npm_config_demo="". The script sees only `1 solutions`. We
// cannot tell for sure what was meant, so we say what npm did and give the command line with `--`.
import type { CliOption } from './args.ts';

/** The npm script a command runs as: 'npm start' → 'start', 'npm run grade' → 'grade'. */
function scriptOf(command: string): string | undefined {
  if (command === 'npm start') return 'start';
  return /^npm run (\S+)$/.exec(command)?.[1];
}

/** What npm set for one of our options, if it took it: the value, or true for a bare flag, false for `--no-x`. */
function takenByNpm(name: string, env: NodeJS.ProcessEnv): string | boolean | undefined {
  const value = env[`npm_config_${name.replace(/-/g, '_')}`];
  if (value === 'true') return true;
  if (value !== undefined && value !== '') return value;
  // `--no-dashboard` is npm's way of saying dashboard=false: an empty npm_config_dashboard.
  if (name.startsWith('no-') && env[`npm_config_${name.slice(3).replace(/-/g, '_')}`] === '') return true;
  return undefined;
}

/**
 * The problem to report when npm took some of this command's options for itself, or undefined.
 * Only when this very command is the npm script being run (npm_lifecycle_event), so that a command
 * started from inside another npm script does not read that script's settings as its own.
 */
export function optionsTakenByNpm(
  command: string,
  options: Record<string, CliOption>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): string | undefined {
  const script = scriptOf(command);
  if (script === undefined || env.npm_lifecycle_event !== script) return undefined;
  const given = (name: string) => argv.some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  const taken = Object.entries(options)
    .map(([name, option]) => ({ name, option, value: takenByNpm(name, env) }))
    .filter(({ name, value }) => value !== undefined && !given(name));
  if (taken.length === 0) return undefined;

  // The command line as meant: a flag that took no value from npm had its value left among the arguments.
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : [...argv];
  const after = argv.includes('--') ? argv.slice(argv.indexOf('--')) : [];
  const flags: string[] = [];
  for (const { name, option, value } of taken) {
    if (option.type === 'boolean' || value === false) flags.push(`--${name}`);
    else if (typeof value === 'string') flags.push(`--${name} ${value}`);
    else {
      const fits = (arg: string) =>
        option.choices ? option.choices.includes(arg) : (option.optionalValue?.takesNext?.(arg) ?? !option.optionalValue);
      let index = own.length - 1;
      while (index >= 0 && (own[index]!.startsWith('-') || !fits(own[index]!))) index--;
      if (index >= 0) flags.push(`--${name} ${own.splice(index, 1)[0]}`);
      else flags.push(option.optionalValue ? `--${name}` : `--${name} ${option.value ?? '<value>'}`);
    }
  }
  const names = taken.map(({ name }) => `--${name}`);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const meant = [...own, ...flags, ...after].join(' ');
  return `npm took ${list} for itself: run ${command} -- ${meant}`;
}
