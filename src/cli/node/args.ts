/**
 * Command-line flags. Configuration flags are the URL's keys (--p 53 --wd 5 --preset mainline),
 * decoded by the same codec as the page, so any shared link can be trained headless.
 */
import { CONFIG_KEYS, FIELDS } from '../../config/schema.ts';
import { EXTRA_KEYS, decodeQuery, type DecodedUrl } from '../../config/url.ts';

export interface ParsedArgs {
  command: string | null;
  positional: string[];
  /** Flags that are not configuration keys, by name. */
  flags: Map<string, string>;
  /** The configuration flags as a query string, and its decoding. */
  query: string;
  decoded: DecodedUrl;
}

// The page's `llc=` (the LLC over training) is not a CLI configuration: --llc is analyze's and sweep's own switch (cli/llc.ts).
export const CONFIG_FLAGS = new Set<string>([...CONFIG_KEYS.map((k) => FIELDS[k].key), ...EXTRA_KEYS.filter((k) => k !== 'llc')]);

/** Long names of switch-like keys: `--orthograd` is `--og 1` (`--orthograd=0` turns it off). */
export const FLAG_ALIASES: Readonly<Record<string, string>> = { orthograd: 'og' };

export class UsageError extends Error {}

/**
 * Parses `command [positional…] --flag value --flag=value --switch`. `booleanFlags` take no
 * value; every other flag needs one.
 */
export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const query = new URLSearchParams();
  let command: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (command === null) command = arg;
      else positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name.length === 0) throw new UsageError(`malformed flag "${arg}"`);
    let value: string;
    const alias = FLAG_ALIASES[name];
    if (alias) {
      name = alias;
      value = eq >= 0 ? arg.slice(eq + 1) : '1';
    } else if (eq >= 0) value = arg.slice(eq + 1);
    else if (booleanFlags.has(name)) value = 'true';
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (CONFIG_FLAGS.has(name)) query.append(name, value);
    else flags.set(name, value);
  }
  return { command, positional, flags, query: query.toString(), decoded: decodeQuery(query) };
}

/** A non-negative integer flag, or the fallback. */
export function intFlag(flags: Map<string, string>, name: string, fallback: number, min = 1): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return v;
}
