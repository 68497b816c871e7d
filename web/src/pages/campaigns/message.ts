// Message editor helpers: the variables a message may use, inserting one at the cursor, and how many
// spintax variations a message has (so the user sees that `{Hi|Hello}` really varies).

export const CONTACT_VARIABLES = ['first_name', 'last_name', 'name', 'phone', 'email', 'company', 'city', 'country', 'language'] as const;

/** Replaces the selection [start, end) with the snippet; returns the new text and where the cursor goes. */
export function insertAt(text: string, start: number, end: number, snippet: string): { text: string; cursor: number } {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  return { text: text.slice(0, from) + snippet + text.slice(to), cursor: from + snippet.length };
}

export function variableSnippet(name: string): string {
  return `{{ ${name} }}`;
}

const JINJA_CLOSE: Record<string, string> = { '{': '}}', '%': '%}', '#': '#}' };

/**
 * Number of distinct texts the spintax can produce (Jinja and escaped braces are not spintax).
 * Options multiply across groups and add up within one: `{a|b} {c|d|e}` has 6, `{a|{b|c}}` has 3.
 */
export function spinVariations(text: string): number {
  let index = 0;

  // Parses a sequence until `stop` (a `|` or `}` closing the current group) and returns its variation count.
  function sequence(insideGroup: boolean): number {
    let total = 1;
    while (index < text.length) {
      const char = text[index];
      if (char === '\\') {
        index += 2;
        continue;
      }
      if (char === '{') {
        const next = text[index + 1] ?? '';
        const close = JINJA_CLOSE[next];
        // `{{{ x }}|y}`: a brace right before Jinja opens spintax.
        if (close && !(next === '{' && text[index + 2] === '{')) {
          const end = text.indexOf(close, index + 2);
          index = end === -1 ? text.length : end + close.length;
          continue;
        }
        index += 1;
        total *= group();
        continue;
      }
      if (insideGroup && (char === '|' || char === '}')) return total;
      index += 1;
    }
    return total;
  }

  function group(): number {
    let options = 0;
    for (;;) {
      options += sequence(true);
      const char = text[index];
      index += 1;
      if (char !== '|') return Math.max(1, options);
    }
  }

  return sequence(false);
}
