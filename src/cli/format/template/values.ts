/**
 * Go values as JavaScript holds them. text/template works over Go's reflect kinds; the data we
 * format is JSON from the Engine API and the format contexts' objects, so the mapping is:
 *
 *   undefined          Go's invalid value (a missing map key): prints `<no value>`
 *   null               a nil interface/pointer: prints `<nil>`
 *   string             string (Go strings are bytes: len/index/slice count UTF-8 bytes)
 *   number             int when integral, float64 otherwise; GoFloat marks an integral float64
 *                      (a template literal `1.0`, so that `eq 1 1.0` fails as in Go)
 *   boolean            bool
 *   Array              slice ([]string when every element is a string, else []interface {})
 *   plain object, Map  map (keys sorted when printed or ranged over, as Go's fmt and range do)
 *   class instance     a struct (pointer): exported (capitalised) properties are fields, its
 *                      methods are Go methods (`.Label "k"`); a static `goType` names its type
 *   function           func (for `call`)
 */

/** An integral float64 (Go prints `1e+06` for float64(1000000), `1000000` for the int). */
export class GoFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/**
 * An integer of a named Go type with a String method (time.Duration): compares and computes as
 * an int, prints through its String (`1m30s`), encodes to JSON as the number.
 */
export class GoStringerInt {
  constructor(
    readonly value: number,
    readonly goType: string,
    private readonly str: (n: number) => string,
  ) {}
  String(): string {
    return this.str(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** A nil Go slice: prints `[]`, has no elements, encodes to JSON as null. */
export class NilSlice extends Array<unknown> {
  toJSON(): null {
    return null;
  }
}

/** A nil Go map: prints `map[]`, has no entries, encodes to JSON as null. */
export class NilMap extends Map<string, unknown> {
  toJSON(): null {
    return null;
  }
}

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func';

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'function':
      return 'func';
    case 'object':
      if (v instanceof GoFloat) return 'float';
      if (v instanceof GoStringerInt) return 'int';
      if (Array.isArray(v)) return 'slice';
      if (v instanceof Map || isPlainObject(v)) return 'map';
      return 'struct';
    default:
      return 'invalid';
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function numberOf(v: unknown): number {
  if (v instanceof GoFloat || v instanceof GoStringerInt) return v.value;
  if (typeof v === 'bigint') return Number(v);
  return v as number;
}

/** The entries of a map value, keys sorted as Go's fmt and range sort them. */
export function mapEntries(v: unknown): [string, unknown][] {
  const entries: [string, unknown][] = v instanceof Map ? [...v.entries()].map(([k, x]) => [String(k), x]) : Object.entries(v as object);
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function mapGet(m: unknown, key: string): unknown {
  if (m instanceof Map) return m.get(key);
  const o = m as Record<string, unknown>;
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

export function mapSize(m: unknown): number {
  return m instanceof Map ? m.size : Object.keys(m as object).length;
}

/**
 * A map's element type decides what a missing key yields under `index` (the zero value): the
 * Engine's label and option maps are map[string]string in Docker's types (zero ""), the rest
 * map[string]interface {} (zero nil).
 */
export function mapOfStrings(m: unknown): boolean {
  const values = m instanceof Map ? [...m.values()] : Object.values(m as object);
  return values.every((x) => typeof x === 'string');
}

export function structType(v: object): string {
  const ctor = (v as { constructor?: { goType?: string; name?: string } }).constructor;
  if (v instanceof Map && ctor?.goType) return ctor.goType;
  return ctor?.goType ?? `*${ctor?.name || 'struct'}`;
}

/** Go's name of the value's dynamic type, as %T and error messages print it. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'int':
      return v instanceof GoStringerInt ? v.goType : 'int';
    case 'float':
      return 'float64';
    case 'slice':
      return isStringSlice(v) ? '[]string' : '[]interface {}';
    case 'map':
      return mapOfStrings(v) && mapSize(v) > 0 ? 'map[string]string' : 'map[string]interface {}';
    case 'func':
      return 'func()';
    default:
      return structType(v as object);
  }
}

export function isStringSlice(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
}

/** Go's isTrue: the truth of a value for if, with, and, or, not. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
      return (v as string).length > 0;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return numberOf(v) !== 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return mapSize(v) > 0;
    default:
      return true;
  }
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();
export const bytesOf = (s: string): Uint8Array => utf8.encode(s);
export const stringOf = (b: Uint8Array): string => utf8d.decode(b);
export const byteLength = (s: string): number => {
  // Fast path: ASCII strings are their own byte length.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  return /^[\x00-\x7f]*$/.test(s) ? s.length : utf8.encode(s).length;
};

/**
 * Marks a class whose toJSON is a Go MarshalJSON built with json.Marshal: its text escapes
 * <, > and & even where the `json` function does not (Docker's format contexts).
 */
export const MARSHAL_ESCAPES_HTML: unique symbol = Symbol.for('berth.format.marshalEscapesHTML');
