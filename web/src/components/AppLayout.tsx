import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useRouter, useRouterState } from '@tanstack/react-router';
import { apiRequest } from '../lib/contract';
import { useAuth } from '../lib/auth';
import { meQuery } from '../lib/queries';
import { Button } from './ui/button';
import { Badge } from './ui/badge';
import { Logo } from './Logo';
import { atLeast, type Role } from '../lib/roles';

export function AppLayout() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const me = useQuery(meQuery());
  const role = me.data?.role as Role | undefined;
  const [leaving, setLeaving] = useState(false);
  const path = useRouterState({ select: (st) => st.location.pathname });
  const alertsActive = /^\/(channels|maintenance|notifications)(\/|$)/.test(path);

  async function logout() {
    setLeaving(true);
    try {
      // Revokes the refresh-token family; the cookie goes along (Path=/api/auth/).
      await apiRequest('post', '/api/auth/logout/', { body: {} });
    } catch {
      // The local session ends anyway; an expired server session is already gone.
    }
    useAuth.getState().clear();
    await router.navigate({ to: '/login' });
    queryClient.clear(); // after leaving, so no mounted query refetches without a session
  }

  return (
    <div className="app-shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/dashboard" className="topbar-logo" aria-label="StatusWatch dashboard">
            <Logo />
          </Link>
          <nav className="topnav" aria-label="Main">
            <Link to="/dashboard" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
              Dashboard
            </Link>
            <Link to="/incidents" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
              Incidents
            </Link>
            <Link to="/channels" className={`topnav-link${alertsActive ? ' active' : ''}`}>
              Alerts
            </Link>
            {atLeast(role, 'admin') && (
              <Link to="/status-pages" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
                Status pages
              </Link>
            )}
            {atLeast(role, 'owner') && (
              <Link to="/billing" className="topnav-link" activeProps={{ className: 'topnav-link active' }} activeOptions={{ exact: true }}>
                Billing
              </Link>
            )}
            <Link to="/team" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
              Team
            </Link>
            {atLeast(role, 'admin') && (
              <Link to="/tokens" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
                API tokens
              </Link>
            )}
            {atLeast(role, 'admin') && (
              <Link to="/audit-log" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
                Audit log
              </Link>
            )}
            <Link to="/account" className="topnav-link" activeProps={{ className: 'topnav-link active' }}>
              Account
            </Link>
          </nav>
          <div className="topbar-user">
            {me.data && (
              <span className="topbar-org" title={me.data.email}>
                <span className="topbar-org-name">{me.data.tenant?.name}</span>
                <Badge tone={me.data.plan === 'pro' ? 'info' : 'neutral'}>{me.data.plan === 'pro' ? 'Pro' : 'Free'}</Badge>
              </span>
            )}
            <Button variant="secondary" size="sm" onClick={logout} loading={leaving}>
              Log out
            </Button>
          </div>
        </div>
      </header>
      <main id="main" className="app-main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
