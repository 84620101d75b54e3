/**
 * What counts as acceptable text in a stored field. Control characters (C0 U+0000-U+001F,
 * DEL and C1 U+007F-U+009F) are refused — PostgreSQL cannot store U+0000 at all, and the
 * others hide in names — except tab, line feed and carriage return in free text; lone
 * UTF-16 surrogates are not text at all.
 *
 * ```ts
 * textProblem('ann\u0000', false); // 'must not contain control characters'
 * textProblem('line 1\nline 2', true); // null
 * ```
 */
/* eslint-disable no-control-regex -- matching control characters is the point of these two */
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/* eslint-enable no-control-regex */
// With the `u` flag a well-formed pair is one code point; only a lone half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with `value` as the text of a field, or null when nothing is. */
export function textProblem(value: string, freeText: boolean): string | null {
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (it holds a lone surrogate)';
  if (freeText ? CONTROL_BUT_LINE_BREAKS.test(value) : ANY_CONTROL.test(value)) {
    return freeText ? 'must not contain control characters other than tab, line feed and carriage return' : 'must not contain control characters';
  }
  return null;
}
