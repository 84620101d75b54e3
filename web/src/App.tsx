import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useSearchParams } from 'react-router';
import { useSession } from './session';
import { Layout } from './components/Layout';
import { Loading } from './components/ui';
import { SignInPage, safeReturnTo } from './pages/SignIn';
import { OverviewPage } from './pages/Overview';
import { NotFoundPage, ForbiddenPage } from './pages/NotFound';

// Pages other than the first are split into their own chunks: the first load stays small.
const IdentitiesPage = lazy(() => import('./pages/Identities'));
const IdentityPage = lazy(() => import('./pages/Identity'));
const ApplicationsPage = lazy(() => import('./pages/Applications'));
const ApplicationPage = lazy(() => import('./pages/Application'));
const RequestsPage = lazy(() => import('./pages/Requests'));
const ApprovalsPage = lazy(() => import('./pages/Approvals'));
const AuditPage = lazy(() => import('./pages/Audit'));
const SettingsPage = lazy(() => import('./pages/Settings'));

/** A page the caller's rights do not reach: a clear 403 page instead of failing calls. */
function Guard({ right, children }: { right: string | string[]; children: ReactNode }) {
  const { can } = useSession();
  const rights = Array.isArray(right) ? right : [right];
  return rights.some(can) ? <>{children}</> : <ForbiddenPage rights={rights} />;
}

/** Signed in on the sign-in page: on to the page that was asked for (same console only). */
function AfterSignIn() {
  const [params] = useSearchParams();
  return <Navigate to={safeReturnTo(params.get('returnTo'))} replace />;
}

export function App() {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'loading') return <Loading label="Opening the console…" />;
  if (status === 'signedOut') {
    if (location.pathname !== '/sign-in') {
      const returnTo = location.pathname + location.search;
      return <Navigate to={`/sign-in${returnTo !== '/' ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`} replace />;
    }
    return <SignInPage />;
  }
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/sign-in" element={<AfterSignIn />} />
        <Route element={<Layout />}>
          <Route index element={<OverviewPage />} />
          <Route path="identities" element={<Guard right="manage-users"><IdentitiesPage /></Guard>} />
          <Route path="identities/:id" element={<IdentityPage />} />
          <Route path="applications" element={<Guard right={['manage-applications', 'read-permissions-any-application', 'manage-imports']}><ApplicationsPage /></Guard>} />
          <Route path="applications/:id" element={<Guard right={['manage-applications', 'read-permissions-any-application', 'manage-imports']}><ApplicationPage /></Guard>} />
          <Route path="requests" element={<RequestsPage />} />
          <Route path="approvals" element={<ApprovalsPage />} />
          <Route path="audit" element={<Guard right="read-audit"><AuditPage /></Guard>} />
          <Route path="settings" element={<SettingsPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
