import { QueryClient } from '@tanstack/react-query';
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
  Outlet,
  type RouterHistory,
} from '@tanstack/react-router';
import { ensureSession, setAuthFailureHandler } from './lib/api';
import { AppLayout } from './components/AppLayout';
import { NotFound, RouteError, PageLoading } from './components/States';

export type RouterContext = { queryClient: QueryClient };

const str = (v: unknown) => (typeof v === 'string' && v ? v : typeof v === 'number' || v === true ? String(v) : undefined);

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/dashboard' });
  },
});

export type LoginSearch = { redirect?: string; registered?: string; verified?: string };
const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: (s: Record<string, unknown>): LoginSearch => ({
    redirect: str(s.redirect),
    registered: str(s.registered),
    verified: str(s.verified),
  }),
  component: lazyRouteComponent(() => import('./pages/Login')),
});

const registerRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/register',
  component: lazyRouteComponent(() => import('./pages/Register')),
});

const verifyRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/verify-email',
  validateSearch: (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) }),
  component: lazyRouteComponent(() => import('./pages/VerifyEmail')),
});

const tokenSearch = (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) });
const acceptInvitationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/accept-invitation',
  validateSearch: tokenSearch,
  component: lazyRouteComponent(() => import('./pages/TokenLinkPages'), 'AcceptInvitationPage'),
});
const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  component: lazyRouteComponent(() => import('./pages/TokenLinkPages'), 'ForgotPasswordPage'),
});
const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  validateSearch: tokenSearch,
  component: lazyRouteComponent(() => import('./pages/TokenLinkPages'), 'ResetPasswordPage'),
});

// Everything below needs a session: the guard restores one from the refresh cookie
// (the access token is in memory only) or sends the visitor to /login and back after.
const authedRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'authed',
  beforeLoad: async ({ location }) => {
    if (!(await ensureSession())) {
      throw redirect({ to: '/login', search: { redirect: location.href } });
    }
  },
  component: AppLayout,
});

const dashboardRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/dashboard',
  validateSearch: (s: Record<string, unknown>): { page?: number } => {
    const n = Number(s.page);
    return { page: Number.isInteger(n) && n > 1 ? n : undefined };
  },
  component: lazyRouteComponent(() => import('./pages/Dashboard')),
});

const billingRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/billing',
  component: lazyRouteComponent(() => import('./pages/Billing')),
});

const billingSuccessRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/billing/success',
  validateSearch: (s: Record<string, unknown>): { session_id?: string } => ({ session_id: str(s.session_id) }),
  component: lazyRouteComponent(() => import('./pages/BillingSuccess')),
});

const teamRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/team',
  component: lazyRouteComponent(() => import('./pages/Team')),
});
const tokensRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/tokens',
  component: lazyRouteComponent(() => import('./pages/Tokens')),
});
const auditRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/audit-log',
  component: lazyRouteComponent(() => import('./pages/AuditLog')),
});
const accountRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/account',
  component: lazyRouteComponent(() => import('./pages/Account')),
});

const statusPagesRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/status-pages',
  component: lazyRouteComponent(() => import('./pages/StatusPages')),
});

const heartbeatRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/heartbeats/$id',
  component: lazyRouteComponent(() => import('./pages/Heartbeat')),
});

const endpointRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/endpoints/$id',
  component: lazyRouteComponent(() => import('./pages/Endpoint')),
});

const channelsRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/channels',
  component: lazyRouteComponent(() => import('./pages/Channels')),
});
const notificationsRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/notifications',
  component: lazyRouteComponent(() => import('./pages/Notifications')),
});
const incidentsRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/incidents',
  component: lazyRouteComponent(() => import('./pages/Incidents'), 'IncidentsPage'),
});
const incidentRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/incidents/$id',
  component: lazyRouteComponent(() => import('./pages/Incidents'), 'IncidentPage'),
});
const maintenanceRoute = createRoute({
  getParentRoute: () => authedRoute,
  path: '/maintenance',
  component: lazyRouteComponent(() => import('./pages/Maintenance')),
});

const routeTree = rootRoute.addChildren([
  indexRoute,
  loginRoute,
  registerRoute,
  verifyRoute,
  acceptInvitationRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  authedRoute.addChildren([
    dashboardRoute,
    heartbeatRoute,
    endpointRoute,
    incidentsRoute,
    incidentRoute,
    channelsRoute,
    notificationsRoute,
    maintenanceRoute,
    statusPagesRoute,
    billingRoute,
    billingSuccessRoute,
    teamRoute,
    tokensRoute,
    auditRoute,
    accountRoute,
  ]),
]);

export function createAppRouter(queryClient: QueryClient, history?: RouterHistory) {
  const router = createRouter({
    routeTree,
    history,
    context: { queryClient },
    defaultPendingComponent: PageLoading,
    defaultPendingMs: 150,
    defaultErrorComponent: RouteError,
    defaultPreload: 'intent',
    scrollRestoration: false,
  });
  // A request still 401 after a refresh: the session is gone.
  setAuthFailureHandler(() => {
    queryClient.clear();
    const loc = router.state.location;
    if (loc.pathname !== '/login') {
      void router.navigate({ to: '/login', search: { redirect: loc.href } });
    }
  });
  return router;
}

export function createAppQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, err: unknown) => {
          const status = (err as { response?: { status?: number } })?.response?.status;
          return count < 2 && (status === undefined || status >= 500);
        },
        refetchOnWindowFocus: true,
      },
    },
  });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
