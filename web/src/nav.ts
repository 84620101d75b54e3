/** The console's sections and the rights that show them (the API still checks every call). */
type Can = (right: string) => boolean;

const anyOf =
  (...rights: string[]) =>
  (can: Can) =>
    rights.some(can);

export const NAV: { to: string; label: string; visible: (can: Can) => boolean }[] = [
  { to: '/', label: 'Overview', visible: () => true },
  { to: '/identities', label: 'Identities', visible: anyOf('manage-users') },
  { to: '/applications', label: 'Applications', visible: anyOf('manage-applications', 'read-permissions-any-application', 'manage-imports') },
  { to: '/requests', label: 'Access requests', visible: () => true },
  { to: '/approvals', label: 'Approvals', visible: () => true },
  { to: '/audit', label: 'Audit', visible: anyOf('read-audit') },
  { to: '/settings', label: 'Settings', visible: () => true },
];
