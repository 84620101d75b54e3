/** The index's interning table finds an id by its characters within a larger text as by the id itself. */
import { describe, expect, it } from 'vitest';
import { NONE, Table } from '../../src/engine/nodes.ts';

class Node {
  constructor(
    readonly idx: number,
    readonly id: string,
  ) {}
}

describe('Table.findText', () => {
  it('finds every interned id inside a text, also ids interned after its first use, and nothing else', () => {
    const table = new Table((i, id) => new Node(i, id));
    const ids = ['', 'a', 'ab', 'i-00000001', 'c1s:é', '😀', ...Array.from({ length: 40 }, (_, i) => `id-${i}`)];
    ids.slice(0, 10).forEach((id) => table.intern(id));
    const at = (id: string) => {
      const text = `{"x":"${id}"}`;
      return table.findText(text, 6, 6 + id.length);
    };
    expect(at('ab')).toBe(table.find('ab'));
    // Interned after the first look-up: through several growths of the table.
    ids.slice(10).forEach((id) => table.intern(id));
    for (const id of ids) {
      expect(at(id), id).toBe(table.find(id));
      expect(table.findText(id, 0, id.length), id).toBe(table.find(id));
    }
    for (const missing of ['b', 'a ', 'id-40', 'i-0000000', 'i-000000011', 'c1s:e']) expect(at(missing), missing).toBe(NONE);
    // Interning an id again changes nothing.
    expect(table.intern('ab')).toBe(at('ab'));
  });
});
