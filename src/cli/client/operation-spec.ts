/** The shape of one API operation as the client commands use it (see scripts/cli-operations.js). */
export interface FieldSpec {
  readonly name: string;
  /** `json` for objects, arrays of objects and unions: the flag takes a JSON value. */
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'json';
  readonly enum?: readonly string[];
  readonly required?: boolean;
  readonly description?: string;
}

export interface OperationSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly summary: string;
  readonly pathParams: readonly string[];
  readonly query: readonly FieldSpec[];
  readonly body?: { readonly contentType: string; readonly fields: readonly FieldSpec[]; readonly required?: boolean };
  /** The success status, its media types, and whether it is a page (`items` + `nextCursor`). */
  readonly response: { readonly status: number; readonly mediaTypes: readonly string[]; readonly paged?: boolean };
}
