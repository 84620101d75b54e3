/** Before/after of an audit event, field by field (changed fields first and marked). */
function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value === undefined ? '' : JSON.stringify(value));
  }
  return out;
}

export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const b = flatten(before);
  const a = flatten(after);
  const keys = [...new Set([...b.keys(), ...a.keys()])];
  const rows = keys.map((k) => ({ key: k, before: b.get(k), after: a.get(k), changed: b.get(k) !== a.get(k) }));
  rows.sort((x, y) => Number(y.changed) - Number(x.changed) || x.key.localeCompare(y.key));
  if (!rows.length) return <p>This event records no object state.</p>;
  return (
    <table className="table diff" data-testid="audit-diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} className={r.changed ? 'diff-changed' : undefined}>
            <th scope="row">
              {r.key}
              {r.changed ? <span className="sr-only"> (changed)</span> : null}
            </th>
            <td className={r.changed && r.before !== undefined ? 'diff-old' : undefined}>{r.before ?? <span className="muted">absent</span>}</td>
            <td className={r.changed && r.after !== undefined ? 'diff-new' : undefined}>{r.after ?? <span className="muted">absent</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
