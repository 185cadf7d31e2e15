// Text from CloudTrail may be chosen by an attacker. Everything the page shows goes through
// visible() and lands in textContent: control, bidi and zero-width characters are shown as
// \u escapes (as the command line's safetext.Printable does), a backslash as two, so
// nothing can reorder, hide or break what the analyst reads.

const hidden = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\\]/gu;

export function visible(s) {
  if (s === null || s === undefined) return '';
  s = String(s);
  return s.replace(hidden, (c) => {
    if (c === '\\') return '\\\\';
    const cp = c.codePointAt(0);
    if (cp < 0x80) return '\\x' + cp.toString(16).padStart(2, '0');
    return '\\u' + cp.toString(16).padStart(4, '0');
  });
}

// short cuts a visible string to n characters, with an ellipsis.
export function short(s, n = 48) {
  s = visible(s);
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function fmtTime(t) {
  if (!t) return '';
  return String(t).replace('T', ' ').replace(/(\.\d+)?Z$/, 'Z');
}

export function fmtNumber(n, digits = 0) {
  if (typeof n !== 'number') return String(n ?? '');
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
