/** The signed-in frame: skip link, navigation (only what the caller's rights allow), main. */
import { Link, NavLink, Outlet } from 'react-router';
import { useSession, type MeShape } from '../session';
import { NAV } from '../nav';

export function Layout() {
  const { session, signOut, can } = useSession();
  const me = session?.me;
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Grantory</span>
        {me?.identityId ? (
          // One's own identity page: one's access, and delegating it (for everyone, not only holders of manage-users).
          <Link className="topbar-user" data-testid="signed-in-as" to={`/identities/${me.identityId}`} title="My access">
            <SignedInAs me={me} />
          </Link>
        ) : (
          <span className="topbar-user" data-testid="signed-in-as">
            {me ? <SignedInAs me={me} /> : null}
          </span>
        )}
        <button type="button" className="btn btn-small btn-on-dark" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className="body">
        <nav aria-label="Main" className="sidenav">
          <ul>
            {NAV.filter((item) => item.visible(can)).map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.to === '/'} className={({ isActive }) => (isActive ? 'navlink navlink-active' : 'navlink')}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1} className="main">
          <Outlet />
        </main>
      </div>
    </div>
  );
}

const SIGNED_IN_WITH = { password: 'password', oidc: 'single sign-on', api_key: 'API key' } as const;

/** Who signed in (the person's name, or the API key's name) and how. */
function SignedInAs({ me }: { me: MeShape }) {
  if (!me.signedIn) return <>{me.name}</>;
  return (
    <>
      {me.signedIn.name} <span className="topbar-method">({SIGNED_IN_WITH[me.signedIn.method]})</span>
    </>
  );
}
