import { Link } from '@tanstack/react-router';

/** The alerting pages under the one "Alerts" entry of the main navigation. */
export function AlertsTabs() {
  const cls = { className: 'tab' };
  const on = { className: 'tab active' };
  return (
    <nav className="tabs" aria-label="Alerts">
      <Link to="/channels" {...cls} activeProps={on}>
        Channels
      </Link>
      <Link to="/maintenance" {...cls} activeProps={on}>
        Maintenance
      </Link>
      <Link to="/notifications" {...cls} activeProps={on}>
        Delivery log
      </Link>
    </nav>
  );
}
