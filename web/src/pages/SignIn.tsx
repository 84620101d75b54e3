/** Sign-in: username and password, an API key, or the organization's OIDC issuer. */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { sessionsApi, useSession } from '../session';
import { ErrorNote, Field, Tabs, TabPanel } from '../components/ui';

// Plain react-hook-form rules rather than zod schemas: this page is in the first chunk, and zod
// (used by the forms of the other pages) stays in theirs.
const required = (message: string) => ({ validate: (value: string) => value.trim().length > 0 || message });
type PasswordForm = { username: string; password: string };
type KeyForm = { apiKey: string };

/**
 * What a failed single sign-on means to the person signing in: the callback sends the browser
 * back here with `signInError` (a failure kind, never free text, so a link cannot put words on
 * this page). The detail is in the audit trail for the administrator.
 */
const SIGN_IN_ERRORS: Record<string, string> = {
  provider_error: 'Your organization’s sign-in did not complete: it was cancelled or refused there. Try again, or sign in another way.',
  not_started: 'The single sign-on could not be completed: it was started in another browser or its cookie is gone. Start it again.',
  expired: 'The single sign-on took too long. Start it again.',
  state_mismatch: 'The single sign-on answer does not belong to this sign-in (it may have been opened twice). Start it again.',
  provider_unusable: 'Grantory could not confirm the sign-in with your organization’s service. Try again; if it keeps failing, tell your administrator.',
  unknown_identity: 'You signed in at your organization, but no Grantory identity matches your account. Ask an administrator to add you.',
  inactive_identity: 'You signed in at your organization, but your Grantory identity is not active. Ask an administrator.',
};
const SIGN_IN_ERROR_DEFAULT = 'The single sign-on did not complete. Start it again, or sign in another way.';

/** Only same-console paths: never an open redirect. */
export function safeReturnTo(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function SignInPage() {
  const { signIn, notice } = useSession();
  const [params] = useSearchParams();
  const returnTo = safeReturnTo(params.get('returnTo'));
  const signInError = params.get('signInError');
  const methods = useQuery({ queryKey: ['sessions', 'methods'], queryFn: sessionsApi.methods, retry: false });
  const [tab, setTab] = useState<'password' | 'apiKey'>('password');
  const [error, setError] = useState<unknown>(null);

  const passwordForm = useForm<PasswordForm>({ defaultValues: { username: '', password: '' } });
  const keyForm = useForm<KeyForm>({ defaultValues: { apiKey: '' } });

  const submit = async (credentials: { apiKey: string } | { username: string; password: string }) => {
    setError(null);
    try {
      // Signed in, the console routes on to returnTo (App.tsx).
      await signIn(credentials);
    } catch (e) {
      setError(e);
    }
  };

  const oidc = methods.data?.oidc;
  const passwordAllowed = methods.data?.password ?? true;
  const tabs = [...(passwordAllowed ? [{ id: 'password' as const, label: 'Username and password' }] : []), { id: 'apiKey' as const, label: 'API key' }];
  const current = passwordAllowed ? tab : 'apiKey';

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1>Sign in to Grantory</h1>
        {notice ? (
          <p className="alert alert-info" role="status">
            {notice}
          </p>
        ) : null}
        {signInError ? (
          <div className="alert alert-error" role="alert" data-testid="sign-in-error">
            <strong>Single sign-on failed.</strong> <span>{SIGN_IN_ERRORS[signInError] ?? SIGN_IN_ERROR_DEFAULT}</span>
          </div>
        ) : null}
        {oidc?.enabled && oidc.startUrl ? (
          <>
            <a className="btn btn-primary btn-block" href={`${oidc.startUrl}${oidc.startUrl.includes('?') ? '&' : '?'}returnTo=${encodeURIComponent(`/console${returnTo}`)}`}>
              Sign in with your organization
            </a>
            <p className="divider">or</p>
          </>
        ) : null}
        <Tabs label="Sign-in method" tabs={tabs} current={current} onChange={setTab} />
        <ErrorNote error={error} />
        {current === 'password' ? (
          <TabPanel id="password">
            <form noValidate onSubmit={passwordForm.handleSubmit((v) => submit({ username: v.username.trim(), password: v.password }))}>
              <Field label="Username" error={passwordForm.formState.errors.username?.message}>
                {(p) => <input {...p} autoComplete="username" {...passwordForm.register('username', required('Enter your username'))} />}
              </Field>
              <Field label="Password" error={passwordForm.formState.errors.password?.message}>
                {(p) => <input {...p} type="password" autoComplete="current-password" {...passwordForm.register('password', { validate: (value: string) => value.length > 0 || 'Enter your password' })} />}
              </Field>
              <button type="submit" className="btn btn-primary btn-block" disabled={passwordForm.formState.isSubmitting}>
                Sign in
              </button>
            </form>
          </TabPanel>
        ) : (
          <TabPanel id="apiKey">
            <form noValidate onSubmit={keyForm.handleSubmit((v) => submit({ apiKey: v.apiKey.trim() }))}>
              <Field label="API key" error={keyForm.formState.errors.apiKey?.message} hint="On a fresh install, the administrator key printed at the first start.">
                {(p) => <input {...p} type="password" autoComplete="off" spellCheck={false} {...keyForm.register('apiKey', required('Enter an API key'))} />}
              </Field>
              <button type="submit" className="btn btn-primary btn-block" disabled={keyForm.formState.isSubmitting}>
                Sign in with key
              </button>
            </form>
          </TabPanel>
        )}
      </div>
    </main>
  );
}
