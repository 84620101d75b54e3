/** Sign-in: username and password, an API key, or the organization's OIDC issuer. */
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { sessionsApi, useSession } from '../session';
import { ErrorNote, Field, Tabs, TabPanel } from '../components/ui';

const PasswordForm = z.object({ username: z.string().trim().min(1, 'Enter your username'), password: z.string().min(1, 'Enter your password') });
const KeyForm = z.object({ apiKey: z.string().trim().min(1, 'Enter an API key') });

/** Only same-console paths: never an open redirect. */
export function safeReturnTo(value: string | null): string {
  return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
}

export function SignInPage() {
  const { signIn, notice } = useSession();
  const [params] = useSearchParams();
  const returnTo = safeReturnTo(params.get('returnTo'));
  const methods = useQuery({ queryKey: ['sessions', 'methods'], queryFn: sessionsApi.methods, retry: false });
  const [tab, setTab] = useState<'password' | 'apiKey'>('password');
  const [error, setError] = useState<unknown>(null);

  const passwordForm = useForm<z.infer<typeof PasswordForm>>({ resolver: zodResolver(PasswordForm), defaultValues: { username: '', password: '' } });
  const keyForm = useForm<z.infer<typeof KeyForm>>({ resolver: zodResolver(KeyForm), defaultValues: { apiKey: '' } });

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
            <form noValidate onSubmit={passwordForm.handleSubmit((v) => submit(v))}>
              <Field label="Username" error={passwordForm.formState.errors.username?.message}>
                {(p) => <input {...p} autoComplete="username" {...passwordForm.register('username')} />}
              </Field>
              <Field label="Password" error={passwordForm.formState.errors.password?.message}>
                {(p) => <input {...p} type="password" autoComplete="current-password" {...passwordForm.register('password')} />}
              </Field>
              <button type="submit" className="btn btn-primary btn-block" disabled={passwordForm.formState.isSubmitting}>
                Sign in
              </button>
            </form>
          </TabPanel>
        ) : (
          <TabPanel id="apiKey">
            <form noValidate onSubmit={keyForm.handleSubmit((v) => submit(v))}>
              <Field label="API key" error={keyForm.formState.errors.apiKey?.message} hint="On a fresh install, the administrator key printed at the first start.">
                {(p) => <input {...p} type="password" autoComplete="off" spellCheck={false} {...keyForm.register('apiKey')} />}
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
