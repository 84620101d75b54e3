/**
 * The signed-in session: who the caller is (`me`, the shape of GET /api/v1/me) and the CSRF
 * token for writes. Held in memory only; a reload asks GET /api/v1/sessions/current, which
 * answers from the HttpOnly session cookie.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, onUnauthenticated, setCsrfToken, unwrap, type paths } from './api/client';

/** The caller, exactly as GET /api/v1/me answers it. */
export type MeShape = paths['/api/v1/me']['get']['responses'][200]['content']['application/json'];

export type SessionBody = paths['/api/v1/sessions']['post']['responses'][201]['content']['application/json'];
export type SignInMethods = paths['/api/v1/sessions/methods']['get']['responses'][200]['content']['application/json'];
export type Credentials = { apiKey: string } | { username: string; password: string };

export const sessionsApi = {
  methods: () => unwrap(api.GET('/api/v1/sessions/methods')),
  current: () => unwrap(api.GET('/api/v1/sessions/current')),
  signIn: (credentials: Credentials) => unwrap(api.POST('/api/v1/sessions', { body: credentials })),
  signOut: () => unwrap(api.DELETE('/api/v1/sessions/current')),
};

interface SessionState {
  status: 'loading' | 'signedOut' | 'signedIn';
  session: SessionBody | null;
  signIn(credentials: Credentials): Promise<void>;
  signOut(): Promise<void>;
  /** True when the signed-in caller holds `right` (admin pages and actions check this). */
  can(right: string): boolean;
  /** Why the last session ended (expired), shown on the sign-in page. */
  notice: string | null;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<SessionState['status']>('loading');
  const [session, setSession] = useState<SessionBody | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const adopt = useCallback((body: SessionBody | null) => {
    setCsrfToken(body?.csrfToken ?? null);
    setSession(body);
    setStatus(body ? 'signedIn' : 'signedOut');
  }, []);

  useEffect(() => {
    let live = true;
    sessionsApi
      .current()
      .then((body) => live && adopt(body))
      .catch(() => live && adopt(null));
    return () => {
      live = false;
    };
  }, [adopt]);

  useEffect(
    () =>
      onUnauthenticated(() => {
        setNotice('Your session ended. Sign in again.');
        queryClient.clear();
        adopt(null);
      }),
    [adopt, queryClient],
  );

  const value = useMemo<SessionState>(
    () => ({
      status,
      session,
      notice,
      async signIn(credentials) {
        const body = await sessionsApi.signIn(credentials);
        setNotice(null);
        queryClient.clear();
        adopt(body);
      },
      async signOut() {
        // Ended here or not (already expired), the console forgets it.
        await sessionsApi.signOut().catch(() => undefined);
        queryClient.clear();
        setNotice('You are signed out.');
        adopt(null);
      },
      can(right) {
        const rights = session?.me.rights ?? [];
        return rights.includes(right) || (right === 'read-permissions-my-application' && rights.includes('read-permissions-any-application'));
      },
    }),
    [status, session, notice, adopt, queryClient],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

/** The signed-in caller (pages under the signed-in layout only). */
export function useMe(): MeShape {
  const { session } = useSession();
  if (!session) throw new Error('useMe without a session');
  return session.me;
}
