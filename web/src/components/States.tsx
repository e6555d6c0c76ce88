import { Link } from '@tanstack/react-router';
import type { ErrorComponentProps } from '@tanstack/react-router';
import { Button } from './ui/button';

export function PageLoading() {
  return (
    <div className="page-loading" role="status" aria-live="polite">
      <span className="spinner spinner-lg" aria-hidden="true" />
      <span className="sr-only">Loading…</span>
    </div>
  );
}

export function NotFound() {
  return (
    <main className="auth-shell">
      <div className="card auth-card">
        <h1 className="card-title">Page not found</h1>
        <p className="card-description">There is nothing at this address.</p>
        <p>
          <Link to="/dashboard" className="link">
            Go to the dashboard
          </Link>
        </p>
      </div>
    </main>
  );
}

export function RouteError({ error, reset }: ErrorComponentProps) {
  const chunk = /dynamically imported module|Importing a module script failed|Failed to fetch/i.test(String((error as Error | undefined)?.message));
  return (
    <div className="state state-error" role="alert">
      <h2>Something went wrong</h2>
      <p>{chunk ? 'A new version of StatusWatch may have been deployed.' : 'This page could not be shown.'}</p>
      <Button onClick={() => (chunk ? window.location.reload() : reset())}>Try again</Button>
    </div>
  );
}
