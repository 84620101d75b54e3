/** `/settings`: the tenant's settings (time zone, workflow choices). Read: any caller; change: manage-system-settings. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { getSettings, updateSettings } from '../../services/kernel/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED, needs } from '../route-auth.ts';
import { Written } from '../schemas.ts';

const TAGS = ['Settings'];

const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone: a plain date such as 2026-03-15 is midnight here', examples: ['Europe/Zurich'] });
const UnjustifiedAccess = Type.Union([Type.Literal('review'), Type.Literal('remove')], {
  description: 'Role transition: access the new position no longer justifies is kept for review until the end date (review) or removed on the day (remove)',
});
const AutoApproveHr = Type.Boolean({ description: 'Personnel events need no approval unless an approval policy names their type' });
const FailAfterImports = Type.Integer({ minimum: 1, maximum: 100, description: "A connected application's provisioning task fails after this many imports that do not show the grant" });

const ProfileSwitch = (vendor: string) => Type.Boolean({ description: `The ${vendor} compatibility profile answers (default true)` });
const Compatibility = {
  checkmarx: ProfileSwitch('Checkmarx (/cxrestapi/auth)'),
  coreone: ProfileSwitch('CoreOne (/api/permission)'),
  celonis: ProfileSwitch('Celonis (/api/authorization/external, /log/api/external, /api/external)'),
  permissionAssist: ProfileSwitch('Permission Assist (/api/identities, /api/applications, ...)'),
};

const Settings = Type.Object(
  {
    timeZone: TimeZone,
    personnelEvents: Type.Object({ unjustifiedAccess: UnjustifiedAccess, autoApproveHr: AutoApproveHr }),
    provisioning: Type.Object({ failAfterImports: FailAfterImports }),
    compatibility: Type.Object(Compatibility, { description: 'Vendor compatibility profiles on (true) or off (false)' }),
  },
  { description: "The tenant's settings" },
);

const PatchSettings = Type.Object(
  {
    timeZone: Type.Optional(TimeZone),
    personnelEvents: Type.Optional(
      Type.Object({ unjustifiedAccess: Type.Optional(UnjustifiedAccess), autoApproveHr: Type.Optional(AutoApproveHr) }, { additionalProperties: false }),
    ),
    provisioning: Type.Optional(Type.Object({ failAfterImports: Type.Optional(FailAfterImports) }, { additionalProperties: false })),
    compatibility: Type.Optional(Type.Partial(Type.Object(Compatibility), { additionalProperties: false })),
  },
  { additionalProperties: false, description: 'Any subset; absent fields are kept' },
);

export function registerSettingsRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/settings',
    {
      config: AUTHENTICATED,
      schema: { tags: TAGS, summary: "The tenant's settings", description: 'Any authenticated caller of the tenant.', response: { 200: Settings } },
    },
    async (request) => getSettings(sd, actorOf(request)),
  );
  app.patch(
    '/settings',
    {
      config: needs('manage-system-settings'),
      schema: {
        tags: TAGS,
        summary: "Change the tenant's settings",
        description: 'Needs manage-system-settings. Audited as settings.update with the settings before and after. 400 naming the field for an unknown time zone or a value out of range.',
        body: PatchSettings,
        response: { 200: Written(Settings) },
      },
    },
    async (request, reply) => {
      const { settings, revision } = await updateSettings(sd, actorOf(request), request.body);
      return sendWritten(reply, 200, settings, revision);
    },
  );
}
