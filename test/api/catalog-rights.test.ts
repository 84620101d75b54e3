import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTableOf } from '../../src/api/app.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const rightsOf = (method: string, url: string) => {
  const entry = routeTableOf(t.app).find((r) => r.method === method && r.url === url);
  expect(entry, `${method} ${url}`).toBeDefined();
  return entry!.auth.kind === 'rights' ? [...entry!.auth.rights].sort() : entry!.auth.kind;
};

describe('catalog routes declare the rights they need', () => {
  it.each([
    ['POST', '/api/v1/applications', ['manage-applications']],
    ['PATCH', '/api/v1/applications/:id', ['manage-applications']],
    ['DELETE', '/api/v1/applications/:id', ['manage-applications']],
    ['GET', '/api/v1/applications', ['manage-applications', 'manage-roles', 'manage-users']],
    ['GET', '/api/v1/applications/:id', ['manage-applications', 'manage-roles', 'manage-users']],
    ['POST', '/api/v1/applications/:id/permissions', ['manage-applications']],
    ['GET', '/api/v1/applications/:id/permissions', ['manage-applications', 'manage-roles', 'manage-users']],
    ['GET', '/api/v1/permissions', ['manage-applications', 'manage-roles', 'manage-users']],
    ['GET', '/api/v1/permissions/:id', ['manage-applications', 'manage-roles', 'manage-users']],
    ['PATCH', '/api/v1/permissions/:id', ['manage-applications']],
    ['DELETE', '/api/v1/permissions/:id', ['manage-applications']],
    ['POST', '/api/v1/roles', ['manage-roles']],
    ['GET', '/api/v1/roles', ['manage-roles', 'manage-users']],
    ['GET', '/api/v1/roles/:id', ['manage-roles', 'manage-users']],
    ['PATCH', '/api/v1/roles/:id', ['manage-roles']],
    ['DELETE', '/api/v1/roles/:id', ['manage-roles']],
    ['GET', '/cxrestapi/auth/Permissions', ['manage-roles', 'manage-users']],
    ['GET', '/cxrestapi/auth/Permissions/:id', ['manage-roles', 'manage-users']],
    ['GET', '/cxrestapi/auth/Roles', ['manage-roles', 'manage-users']],
    ['GET', '/cxrestapi/auth/Roles/:id', ['manage-roles', 'manage-users']],
    ['POST', '/cxrestapi/auth/Roles', ['manage-roles']],
    ['PUT', '/cxrestapi/auth/Roles/:id', ['manage-roles']],
    ['DELETE', '/cxrestapi/auth/Roles/:id', ['manage-roles']],
    ['GET', '/cxrestapi/auth/ServiceProviders', ['manage-roles', 'manage-users']],
    ['GET', '/cxrestapi/auth/ServiceProviders/:id', ['manage-roles', 'manage-users']],
    ['GET', '/cxrestapi/auth/Users', ['manage-users']],
    ['POST', '/cxrestapi/auth/Users', ['manage-users']],
    ['GET', '/cxrestapi/auth/Users/:id', ['manage-users']],
    ['PUT', '/cxrestapi/auth/Users/:id', ['manage-users']],
    ['DELETE', '/cxrestapi/auth/Users/:id', ['manage-users']],
    ['GET', '/cxrestapi/auth/Teams', ['manage-users']],
    ['POST', '/cxrestapi/auth/Teams', ['manage-users']],
    ['GET', '/cxrestapi/auth/Teams/:id', ['manage-users']],
    ['PUT', '/cxrestapi/auth/Teams/:id', ['manage-users']],
    ['DELETE', '/cxrestapi/auth/Teams/:id', ['manage-users']],
    ['GET', '/cxrestapi/auth/Teams/:id/Users', ['manage-users']],
    ['PUT', '/cxrestapi/auth/Teams/:id/Users', ['manage-users']],
    ['POST', '/cxrestapi/auth/Teams/:teamId/Users/:userId', ['manage-users']],
    ['DELETE', '/cxrestapi/auth/Teams/:teamId/Users/:userId', ['manage-users']],
  ])('%s %s needs %j', (method, url, rights) => {
    expect(rightsOf(method, url)).toEqual(rights);
  });
});
