/**
 * Splits SQL text into its statements, for `exec` through a Kysely dialect that sends every
 * query with the extended protocol (PGlite's: "cannot insert multiple commands into a prepared
 * statement"). A `;` ends a statement only outside quotes, dollar-quoted bodies and comments,
 * which pgqueue's own DDL has all of (plpgsql bodies, comments with `;` in them).
 */

const IDENTIFIER_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/** The statements of `text` without their `;`, skipping any that hold only blanks and comments. */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const end = (at: number) => {
    if (hasCode) statements.push(text.slice(start, at).trim());
    start = at + 1;
    hasCode = false;
  };
  while (i < text.length) {
    const char = text[i]!;
    const next = text[i + 1];
    if (char === '-' && next === '-') {
      const newline = text.indexOf('\n', i);
      i = newline === -1 ? text.length : newline + 1;
    } else if (char === '/' && next === '*') {
      i = skipBlockComment(text, i);
    } else if (char === "'") {
      // E'…' strings escape with backslashes; standard strings only by doubling the quote.
      const escapes = /[eE]/.test(text[i - 1] ?? '') && !IDENTIFIER_CHAR.test(text[i - 2] ?? '');
      i = skipQuoted(text, i, "'", escapes);
      hasCode = true;
    } else if (char === '"') {
      i = skipQuoted(text, i, '"', false);
      hasCode = true;
    } else if (char === '$' && !IDENTIFIER_CHAR.test(text[i - 1] ?? '') && DOLLAR_TAG.test(text.slice(i))) {
      const tag = DOLLAR_TAG.exec(text.slice(i))![0];
      const close = text.indexOf(tag, i + tag.length);
      i = close === -1 ? text.length : close + tag.length;
      hasCode = true;
    } else if (char === ';') {
      end(i);
      i++;
    } else {
      if (!/\s/.test(char)) hasCode = true;
      i++;
    }
  }
  end(text.length);
  return statements;
}

/** Index after the quoted text opened at `open`; a doubled quote stays inside it. */
function skipQuoted(text: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < text.length) {
    const char = text[i]!;
    if (backslashEscapes && char === '\\') i += 2;
    else if (char === quote && text[i + 1] === quote) i += 2;
    else if (char === quote) return i + 1;
    else i++;
  }
  return i;
}

/** Index after the block comment opened at `open`; PostgreSQL's block comments nest. */
function skipBlockComment(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return i;
}
