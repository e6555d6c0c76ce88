import type { ReactNode } from 'react';
import { Logo } from './Logo';

/** The public pages' frame: logo above a centered card. */
export function AuthShell({ children }: { children: ReactNode }) {
  return (
    <main className="auth-shell">
      <div className="auth-logo">
        <Logo />
      </div>
      <div className="card auth-card">{children}</div>
    </main>
  );
}
