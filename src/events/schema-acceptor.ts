import type { z } from 'zod';

/** A quick verdict on a value: true only when the schema it was compiled from accepts it as it is. */
export type Acceptor = (value: unknown) => boolean;

/** Zod's description of a schema or a check, as far as the compiler reads it (zod 4's `_zod.def`). */
interface Def {
  type?: string;
  check?: string;
  checks?: Array<{ _zod: { def: Def } }>;
  coerce?: boolean;
  shape?: Record<string, ZodInternals>;
  catchall?: ZodInternals;
  innerType?: ZodInternals;
  element?: ZodInternals;
  options?: ZodInternals[];
  discriminator?: string;
  keyType?: ZodInternals;
  valueType?: ZodInternals;
  format?: string;
  pattern?: RegExp;
  fn?: (value: unknown) => unknown;
  inclusive?: boolean;
  value?: unknown;
  minimum?: number;
  maximum?: number;
}

interface ZodInternals {
  _zod: { def: Def; traits: Set<string>; values?: Set<unknown> };
}

/** A schema construct the compiler does not know: the schema is then left to zod alone. */
class Unsupported extends Error {}

/**
 * Compiles a zod schema into an {@link Acceptor}: one generated function of plain checks of
 * types, bounds, patterns and refinements, without zod's issues, paths and copies. It answers
 * the common case (a value the schema accepts as it is) several times faster than `safeParse`;
 * every other value — one zod would refuse, change (a default to fill in) or that the compiler
 * is unsure of — gets false, and is for zod to judge and explain. It never says true where zod
 * would refuse (a property test holds it to that). A schema using a construct it does not know
 * compiles to an acceptor that always says false: zod then judges everything, as before.
 */
export function compileAcceptor(schema: z.ZodType): Acceptor {
  try {
    const compiler = new Compiler();
    const body = compiler.emit(schema as unknown as ZodInternals, 'value');
    // Generated from the schema's own description; the constants (patterns, refinements, sets) are passed in.
    const make = new Function('k', `return function accepts(value) {\n${body}\nreturn true;\n};`) as (k: unknown[]) => Acceptor;
    return make(compiler.constants);
  } catch (error) {
    if (error instanceof Unsupported) return () => false;
    throw error;
  }
}

/** Writes the code of an acceptor: statements that `return false` where the value fails. */
class Compiler {
  readonly constants: unknown[] = [];
  private names = 0;

  /** Code that returns false unless `v` (a variable's name) passes `schema`. */
  emit(schema: ZodInternals, v: string): string {
    const { def } = schema._zod;
    if (def.coerce === true) throw new Unsupported('coercion');
    return `${this.typeCode(schema, v)}\n${this.checksOf(schema).map((check) => this.checkCode(check, v)).join('\n')}`;
  }

  private constant(value: unknown): string {
    this.constants.push(value);
    return `k[${this.constants.length - 1}]`;
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.names++}`;
  }

  /** The schema's checks: its own (a string format is a check itself) and those added to it. */
  private checksOf(schema: ZodInternals): Def[] {
    const own = schema._zod.traits.has('$ZodCheck') ? [schema._zod.def] : [];
    return [...own, ...(schema._zod.def.checks ?? []).map((c) => c._zod.def)];
  }

  private checkCode(def: Def, v: string): string {
    switch (def.check) {
      case 'max_length':
        return `if (${v}.length > ${number(def.maximum)}) return false;`;
      case 'min_length':
        return `if (${v}.length < ${number(def.minimum)}) return false;`;
      case 'greater_than':
        return `if (!(${v} ${def.inclusive === true ? '>=' : '>'} ${number(def.value)})) return false;`;
      case 'less_than':
        return `if (!(${v} ${def.inclusive === true ? '<=' : '<'} ${number(def.value)})) return false;`;
      case 'number_format':
        if (def.format !== 'safeint') throw new Unsupported(`number format ${def.format}`);
        return `if (!Number.isSafeInteger(${v})) return false;`;
      case 'string_format': {
        // Formats checked by their pattern alone; others (a JSON string, a JWT…) check more.
        if (!(def.format === 'regex' || def.format === 'datetime') || !(def.pattern instanceof RegExp)) throw new Unsupported(`string format ${def.format}`);
        const pattern = this.constant(def.pattern);
        return `${pattern}.lastIndex = 0; if (!${pattern}.test(${v})) return false;`;
      }
      case 'custom': {
        const verdict = this.fresh('r');
        return `{ const ${verdict} = ${this.constant(def.fn)}(${v}); if (${verdict} instanceof Promise || !${verdict}) return false; }`;
      }
      default:
        throw new Unsupported(`check ${def.check}`);
    }
  }

  private typeCode(schema: ZodInternals, v: string): string {
    const { def } = schema._zod;
    switch (def.type) {
      case 'string':
        return `if (typeof ${v} !== 'string') return false;`;
      case 'number':
        return `if (typeof ${v} !== 'number' || !Number.isFinite(${v})) return false;`;
      case 'boolean':
        return `if (typeof ${v} !== 'boolean') return false;`;
      case 'never':
        return 'return false;';
      case 'literal':
      case 'enum': {
        const values = schema._zod.values;
        if (values === undefined) throw new Unsupported(`${def.type} without values`);
        const [only] = values;
        // One string: === is what the set's SameValueZero does for it.
        if (values.size === 1 && typeof only === 'string') return `if (${v} !== ${JSON.stringify(only)}) return false;`;
        return `if (!${this.constant(values)}.has(${v})) return false;`;
      }
      case 'optional':
        return `if (${v} !== undefined) {\n${this.emit(def.innerType!, v)}\n}`;
      case 'nullable':
        return `if (${v} !== null) {\n${this.emit(def.innerType!, v)}\n}`;
      case 'default':
        // Present, the value is the inner schema's to judge; absent, zod fills it in: zod's to do.
        return this.emit(def.innerType!, v);
      case 'array': {
        // Every index, as zod reads them: a hole is an undefined item, not one skipped.
        const [i, item] = [this.fresh('i'), this.fresh('item')];
        return `if (!Array.isArray(${v})) return false;\nfor (let ${i} = 0; ${i} < ${v}.length; ${i} += 1) {\nconst ${item} = ${v}[${i}];\n${this.emit(def.element!, item)}\n}`;
      }
      case 'object':
        return this.objectCode(def, v);
      case 'union':
        return this.unionCode(def, v);
      case 'record':
        return `if (!${this.constant(recordAcceptor(def))}(${v})) return false;`;
      default:
        throw new Unsupported(`type ${def.type}`);
    }
  }

  private objectCode(def: Def, v: string): string {
    const catchall = def.catchall?._zod.def.type;
    // Strict (unknown keys refused) only: a stripping object would hand back less than it was given.
    if (catchall !== 'never') throw new Unsupported(`an object whose unknown keys are ${catchall ?? 'stripped'}`);
    const keys = Object.keys(def.shape!);
    const fields = keys.map((key) => {
      const field = this.fresh('f');
      return `const ${field} = ${v}[${JSON.stringify(key)}];\n${this.emit(def.shape![key]!, field)}`;
    });
    const key = this.fresh('key');
    // Unknown keys as zod's strict object finds them: for…in.
    const known = keys.length === 0 ? '' : `${keys.map((k) => `case ${JSON.stringify(k)}:`).join(' ')} break;`;
    return [
      `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) return false;`,
      ...fields,
      `for (const ${key} in ${v}) { switch (${key}) { ${known} default: return false; } }`,
    ].join('\n');
  }

  private unionCode(def: Def, v: string): string {
    const discriminator = def.discriminator;
    if (discriminator === undefined) {
      const options = def.options!.map((option) => this.constant(compileAcceptor(option as unknown as z.ZodType)));
      return `if (!(${options.map((o) => `${o}(${v})`).join(' || ')})) return false;`;
    }
    // One option per value of the discriminator, as zod picks it.
    const seen = new Set<unknown>();
    const cases = def.options!.map((option) => {
      const values = option._zod.def.shape?.[discriminator]?._zod.values;
      if (values === undefined || [...values].some((x) => typeof x !== 'string' || seen.has(x))) throw new Unsupported('a discriminated option without distinct string literals');
      for (const x of values) seen.add(x);
      return `${[...values].map((x) => `case ${JSON.stringify(x)}:`).join(' ')} {\n${this.emit(option, v)}\nbreak;\n}`;
    });
    return `if (typeof ${v} !== 'object' || ${v} === null) return false;\nswitch (${v}[${JSON.stringify(discriminator)}]) {\n${cases.join('\n')}\ndefault: return false;\n}`;
  }
}

/** A finite number as code; anything else is not a bound the compiler knows. */
function number(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Unsupported('a bound that is not a finite number');
  return String(value);
}

/** A record of plain string keys, judged by a closure (records are rare in events). */
function recordAcceptor(def: Def): Acceptor {
  const keyType = def.keyType!._zod;
  if (keyType.def.type !== 'string' || keyType.values !== undefined) throw new Unsupported('a record whose keys are not plain strings');
  const key = compileAcceptor(def.keyType as unknown as z.ZodType);
  const item = compileAcceptor(def.valueType as unknown as z.ZodType);
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    // A plain object, as zod asks of a record; every own key (zod reads them all, enumerable or
    // not), none that could be a prototype's.
    const proto = Object.getPrototypeOf(value);
    if ((proto !== Object.prototype && proto !== null) || Object.getOwnPropertySymbols(value).length > 0) return false;
    const record = value as Record<string, unknown>;
    for (const k of Object.getOwnPropertyNames(record)) if (k === '__proto__' || !key(k) || !item(record[k])) return false;
    return true;
  };
}
