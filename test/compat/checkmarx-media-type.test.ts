import { describe, expect, it } from 'vitest';
import { acceptedVersion, bodyVersion } from '../../src/api/compat/checkmarx/media-type.ts';

describe('Checkmarx media-type versioning', () => {
  it.each([
    [undefined, '1.0'],
    ['', '1.0'],
    ['application/json;v=1.0', '1.0'],
    ['application/json; v=1.0', '1.0'],
    ['application/json;v="1.0"', '1.0'],
    ['application/json;v=1', '1.0'],
    ['Application/JSON', '1.0'],
    ['*/*', '1.0'],
    ['application/*;q=0.2', '1.0'],
    ['application/json;v=2.0, application/json;v=1.0;q=0.5', '1.0'],
    ['application/json;v=2.0', null],
    ['application/xml', null],
    ['application/json;q=0', null],
    ['garbage', null],
  ])('Accept %s → %s', (accept, expected) => {
    expect(acceptedVersion(accept)).toBe(expected);
  });

  it.each([
    ['application/json', '1.0'],
    ['application/json;v=1.0', '1.0'],
    ['application/json; charset=utf-8; v=1.0', '1.0'],
    ['application/json;v=3.0', null],
    ['text/plain', null],
    [undefined, null],
  ])('Content-Type %s → %s', (contentType, expected) => {
    expect(bodyVersion(contentType)).toBe(expected);
  });
});
