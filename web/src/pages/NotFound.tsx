import { Link } from 'react-router';
import { PageHeader } from '../components/ui';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is no page at this address. <Link to="/">Go to the overview</Link>.
      </p>
    </>
  );
}

export function ForbiddenPage({ rights }: { rights: string[] }) {
  return (
    <>
      <PageHeader title="Not available to you" />
      <p data-testid="forbidden">
        This page needs the right {rights.map((r, i) => (
          <span key={r}>
            {i ? ' or ' : ''}
            <code>{r}</code>
          </span>
        ))}
        . Ask an administrator if you need it.
      </p>
    </>
  );
}
