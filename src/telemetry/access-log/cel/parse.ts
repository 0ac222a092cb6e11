// A parser for the whole syntax of CEL (the Common Expression Language, cel-spec's
// langdef.md grammar), producing a small AST with source offsets. Telemetry access-log filters
// (`accessLogging[].filter.expression`) are CEL: Istio rejects a Telemetry whose expression does
// not parse (its validation calls cel-go's Parse), and Envoy rejects such a filter with the
// listener. Parsing the full grammar lets Strait do the same, and tell an expression that is not
// CEL at all (an error) apart from valid CEL it does not evaluate (a warning; compile.ts).
//
// Hand-written recursive descent over a hand-written lexer: no regular expression runs on the
// user's text except small anchored, linear-time ones on single tokens, and nesting is bounded so
// hostile input cannot exhaust the stack.

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';

/** Literal values as CEL types them. */
export type Literal =
  | { readonly type: 'int' | 'uint' | 'double'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bytes'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'null' };

/** An expression node; `pos` is the 0-based offset of its first character in the source. */
export type Expr =
  | { readonly kind: 'literal'; readonly pos: number; readonly literal: Literal }
  | { readonly kind: 'ident'; readonly pos: number; readonly name: string }
  | { readonly kind: 'select'; readonly pos: number; readonly operand: Expr; readonly field: string }
  | { readonly kind: 'index'; readonly pos: number; readonly operand: Expr; readonly index: Expr }
  | { readonly kind: 'call'; readonly pos: number; readonly target?: Expr; readonly fn: string; readonly args: readonly Expr[] }
  | { readonly kind: 'list'; readonly pos: number; readonly items: readonly Expr[] }
  | { readonly kind: 'map'; readonly pos: number; readonly entries: readonly (readonly [Expr, Expr])[] }
  | { readonly kind: 'struct'; readonly pos: number; readonly type: string; readonly fields: readonly (readonly [string, Expr])[] }
  | { readonly kind: 'unary'; readonly pos: number; readonly op: '!' | '-'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly pos: number; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'conditional'; readonly pos: number; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr };

export class CelSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${reason} (at character ${offset + 1})`);
  }
}

/** Expressions longer than this are refused; an access-log filter is one line of logic. */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Nesting (parentheses, calls, operators' operands) deeper than this is refused. */
const MAX_DEPTH = 64;

// CEL's reserved words: keywords, plus words reserved for future use that may not name anything.
const RESERVED = new Set(['as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

type Token =
  | { readonly t: 'num'; readonly pos: number; readonly literal: Literal }
  | { readonly t: 'str'; readonly pos: number; readonly literal: Literal }
  | { readonly t: 'ident'; readonly pos: number; readonly name: string }
  | { readonly t: 'op'; readonly pos: number; readonly op: string }
  | { readonly t: 'eof'; readonly pos: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':', '.', ',', '[', ']', '(', ')', '{', '}'];

const isDigit = (c: string) => c >= '0' && c <= '9';
const isHex = (c: string) => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c);

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1] ?? ''))) {
      i = lexNumber(src, i, out);
      continue;
    }
    if (isIdentStart(c)) {
      // String and bytes prefixes: r, b, rb, br (any case) directly followed by a quote.
      let j = i;
      while (j < src.length && j - i < 2 && /[rRbB]/.test(src[j]!)) j++;
      const prefix = src.slice(i, j).toLowerCase();
      if ((src[j] === '"' || src[j] === "'") && ['r', 'b', 'rb', 'br'].includes(prefix)) {
        i = lexString(src, j, prefix.includes('r'), prefix.includes('b'), start, out);
        continue;
      }
      while (i < src.length && isIdentPart(src[i]!)) i++;
      out.push({ t: 'ident', pos: start, name: src.slice(start, i) });
      continue;
    }
    if (c === '"' || c === "'") {
      i = lexString(src, i, false, false, start, out);
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new CelSyntaxError(i, `unexpected character ${JSON.stringify(c)}`);
    out.push({ t: 'op', pos: i, op });
    i += op.length;
  }
  out.push({ t: 'eof', pos: src.length });
  return out;
}

function lexNumber(src: string, i: number, out: Token[]): number {
  const start = i;
  if (src[i] === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
    i += 2;
    const digits = i;
    while (i < src.length && isHex(src[i]!)) i++;
    if (i === digits) throw new CelSyntaxError(start, 'a hexadecimal literal needs digits after 0x');
    const unsigned = src[i] === 'u' || src[i] === 'U';
    const value = Number.parseInt(src.slice(digits, i), 16);
    if (unsigned) i++;
    out.push({ t: 'num', pos: start, literal: { type: unsigned ? 'uint' : 'int', value } });
    return checkNumberEnd(src, i);
  }
  while (i < src.length && isDigit(src[i]!)) i++;
  let double = false;
  if (src[i] === '.' && isDigit(src[i + 1] ?? '')) {
    double = true;
    i++;
    while (i < src.length && isDigit(src[i]!)) i++;
  }
  if (src[i] === 'e' || src[i] === 'E') {
    let j = i + 1;
    if (src[j] === '+' || src[j] === '-') j++;
    if (!isDigit(src[j] ?? '')) throw new CelSyntaxError(i, 'an exponent needs digits');
    while (j < src.length && isDigit(src[j]!)) j++;
    double = true;
    i = j;
  }
  const text = src.slice(start, i);
  if (double) {
    out.push({ t: 'num', pos: start, literal: { type: 'double', value: Number(text) } });
    return checkNumberEnd(src, i);
  }
  const unsigned = src[i] === 'u' || src[i] === 'U';
  if (unsigned) i++;
  out.push({ t: 'num', pos: start, literal: { type: unsigned ? 'uint' : 'int', value: Number(text) } });
  return checkNumberEnd(src, i);
}

function checkNumberEnd(src: string, i: number): number {
  if (i < src.length && isIdentPart(src[i]!)) throw new CelSyntaxError(i, `unexpected ${JSON.stringify(src[i])} after a number`);
  return i;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '`': '`', '?': '?' };

function lexString(src: string, i: number, raw: boolean, bytes: boolean, start: number, out: Token[]): number {
  const q = src[i]!;
  const triple = src.startsWith(q.repeat(3), i);
  const close = triple ? q.repeat(3) : q;
  i += close.length;
  let value = '';
  for (;;) {
    if (i >= src.length) throw new CelSyntaxError(start, 'unterminated string literal');
    if (src.startsWith(close, i)) {
      i += close.length;
      break;
    }
    const c = src[i]!;
    if (!triple && (c === '\n' || c === '\r')) throw new CelSyntaxError(i, 'a quoted string cannot span lines (use triple quotes)');
    if (c !== '\\' || raw) {
      value += c;
      i++;
      continue;
    }
    const e = src[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      value += simple;
      i += 2;
      continue;
    }
    const hexLen = e === 'x' || e === 'X' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = src.slice(i + 2, i + 2 + hexLen);
      if (hex.length !== hexLen || ![...hex].every(isHex)) throw new CelSyntaxError(i, `\\${e} needs ${hexLen} hexadecimal digits`);
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new CelSyntaxError(i, `\\${e}${hex} is not a Unicode code point`);
      value += String.fromCodePoint(cp);
      i += 2 + hexLen;
      continue;
    }
    if (e >= '0' && e <= '3') {
      const oct = src.slice(i + 1, i + 4);
      if (oct.length !== 3 || ![...oct].every((d) => d >= '0' && d <= '7')) throw new CelSyntaxError(i, 'an octal escape needs three octal digits');
      value += String.fromCharCode(Number.parseInt(oct, 8));
      i += 4;
      continue;
    }
    throw new CelSyntaxError(i, `unknown escape \\${e}`);
  }
  out.push({ t: 'str', pos: start, literal: bytes ? { type: 'bytes', value } : { type: 'string', value } });
  return i;
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.op === op;
  }

  private eatOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }

  private expectOp(op: string, what: string): void {
    if (!this.eatOp(op)) throw this.unexpected(`expected ${JSON.stringify(op)} ${what}`);
  }

  private unexpected(reason: string): CelSyntaxError {
    const t = this.peek();
    const found = t.t === 'eof' ? 'the end of the expression' : t.t === 'op' ? JSON.stringify(t.op) : t.t === 'ident' ? JSON.stringify(t.name) : 'a literal';
    return new CelSyntaxError(t.pos, `${reason}, found ${found}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new CelSyntaxError(this.peek().pos, `the expression nests deeper than ${MAX_DEPTH} levels`);
  }

  parseAll(): Expr {
    const e = this.expr();
    if (this.peek().t !== 'eof') throw this.unexpected('expected an operator or the end of the expression');
    return e;
  }

  // Expr = ConditionalOr ["?" ConditionalOr ":" Expr]
  private expr(): Expr {
    this.enter();
    const test = this.binary(0);
    let e = test;
    if (this.eatOp('?')) {
      const then = this.binary(0);
      this.expectOp(':', 'in a conditional (a ? b : c)');
      e = { kind: 'conditional', pos: test.pos, test, then, otherwise: this.expr() };
    }
    this.depth--;
    return e;
  }

  // Precedence levels, loosest first; every binary operator is left-associative.
  private static readonly LEVELS: readonly (readonly BinaryOp[])[] = [['||'], ['&&'], ['==', '!=', '<', '<=', '>', '>=', 'in'], ['+', '-'], ['*', '/', '%']];

  private binaryOp(level: number): BinaryOp | undefined {
    const t = this.peek();
    const ops = Parser.LEVELS[level]!;
    if (t.t === 'op' && (ops as readonly string[]).includes(t.op)) return t.op as BinaryOp;
    if (t.t === 'ident' && t.name === 'in' && ops.includes('in')) return 'in';
    return undefined;
  }

  private binary(level: number): Expr {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (let op = this.binaryOp(level); op; op = this.binaryOp(level)) {
      this.i++;
      this.enter();
      const right = this.binary(level + 1);
      this.depth--;
      left = { kind: 'binary', pos: left.pos, op, left, right };
    }
    return left;
  }

  // Unary = Member | "!" {"!"} Member | "-" {"-"} Member
  private unary(): Expr {
    const t = this.peek();
    if (t.t === 'op' && (t.op === '!' || t.op === '-')) {
      this.i++;
      this.enter();
      // A minus directly before a number literal is part of the literal (-1 is an int).
      const next = this.peek();
      if (t.op === '-' && next.t === 'num' && next.literal.type !== 'uint' && 'value' in next.literal) {
        this.i++;
        const literal = { ...next.literal, value: -next.literal.value } as Literal;
        const e = this.member({ kind: 'literal', pos: t.pos, literal });
        this.depth--;
        return e;
      }
      const operand = this.unary();
      this.depth--;
      return { kind: 'unary', pos: t.pos, op: t.op, operand };
    }
    return this.member(this.primary());
  }

  // Member = Primary | Member "." SELECTOR ["(" [ExprList] ")"] | Member "[" Expr "]"
  private member(e: Expr): Expr {
    for (;;) {
      if (this.eatOp('.')) {
        const t = this.peek();
        if (t.t !== 'ident') throw this.unexpected('expected a field or method name after "."');
        if (RESERVED.has(t.name) || ['true', 'false', 'null', 'in'].includes(t.name)) throw new CelSyntaxError(t.pos, `${t.name} is a reserved word`);
        this.i++;
        if (this.eatOp('(')) e = { kind: 'call', pos: t.pos, target: e, fn: t.name, args: this.exprList(')') };
        else e = { kind: 'select', pos: e.pos, operand: e, field: t.name };
      } else if (this.isOp('[')) {
        const pos = this.peek().pos;
        this.i++;
        const index = this.expr();
        this.expectOp(']', 'to close the index');
        e = { kind: 'index', pos, operand: e, index };
      } else if (this.isOp('{') && this.qualifiedName(e) !== undefined) {
        // A message construction: Type{field: value, ...}.
        this.i++;
        e = { kind: 'struct', pos: e.pos, type: this.qualifiedName(e)!, fields: this.fieldInits() };
      } else {
        return e;
      }
    }
  }

  private qualifiedName(e: Expr): string | undefined {
    if (e.kind === 'ident') return e.name;
    if (e.kind === 'select') {
      const base = this.qualifiedName(e.operand);
      return base === undefined ? undefined : `${base}.${e.field}`;
    }
    return undefined;
  }

  private exprList(close: string): Expr[] {
    this.enter();
    const items: Expr[] = [];
    if (!this.eatOp(close)) {
      do {
        if (this.isOp(close)) break; // a trailing comma
        items.push(this.expr());
      } while (this.eatOp(','));
      this.expectOp(close, close === ')' ? 'to close the argument list' : 'to close the list');
    }
    this.depth--;
    return items;
  }

  private fieldInits(): (readonly [string, Expr])[] {
    this.enter();
    const fields: (readonly [string, Expr])[] = [];
    if (!this.eatOp('}')) {
      do {
        if (this.isOp('}')) break;
        const t = this.peek();
        if (t.t !== 'ident') throw this.unexpected('expected a field name');
        this.i++;
        this.expectOp(':', 'after a field name');
        fields.push([t.name, this.expr()]);
      } while (this.eatOp(','));
      this.expectOp('}', 'to close the message');
    }
    this.depth--;
    return fields;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.t) {
      case 'num':
      case 'str':
        this.i++;
        return { kind: 'literal', pos: t.pos, literal: t.literal };
      case 'ident': {
        this.i++;
        if (t.name === 'true' || t.name === 'false') return { kind: 'literal', pos: t.pos, literal: { type: 'bool', value: t.name === 'true' } };
        if (t.name === 'null') return { kind: 'literal', pos: t.pos, literal: { type: 'null' } };
        if (t.name === 'in' || RESERVED.has(t.name)) throw new CelSyntaxError(t.pos, `${t.name} is a reserved word`);
        if (this.eatOp('(')) return { kind: 'call', pos: t.pos, fn: t.name, args: this.exprList(')') };
        return { kind: 'ident', pos: t.pos, name: t.name };
      }
      case 'op': {
        if (t.op === '.') {
          // A leading dot names the root scope: .request.path is request.path.
          this.i++;
          const n = this.peek();
          if (n.t !== 'ident') throw this.unexpected('expected a name after a leading "."');
          return this.primary();
        }
        if (t.op === '(') {
          this.i++;
          const e = this.expr();
          this.expectOp(')', 'to close the parenthesis');
          return e;
        }
        if (t.op === '[') {
          this.i++;
          return { kind: 'list', pos: t.pos, items: this.exprList(']') };
        }
        if (t.op === '{') {
          this.i++;
          return { kind: 'map', pos: t.pos, entries: this.mapInits() };
        }
        throw this.unexpected('expected a value, a name or "("');
      }
      case 'eof':
        throw this.unexpected('expected a value');
    }
  }

  private mapInits(): (readonly [Expr, Expr])[] {
    this.enter();
    const entries: (readonly [Expr, Expr])[] = [];
    if (!this.eatOp('}')) {
      do {
        if (this.isOp('}')) break;
        const k = this.expr();
        this.expectOp(':', 'between a map key and its value');
        entries.push([k, this.expr()]);
      } while (this.eatOp(','));
      this.expectOp('}', 'to close the map');
    }
    this.depth--;
    return entries;
  }
}

/** Parses a CEL expression; throws CelSyntaxError with the offset of the problem. */
export function parseCel(source: string): Expr {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new CelSyntaxError(MAX_EXPRESSION_LENGTH, `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (source.trim() === '') throw new CelSyntaxError(0, 'the expression is empty');
  return new Parser(lex(source)).parseAll();
}
