import type { HTMLAttributes } from 'react';
import { cn } from './cn';

export function Alert({
  tone = 'info',
  className,
  ...rest
}: HTMLAttributes<HTMLDivElement> & { tone?: 'info' | 'success' | 'danger' | 'warning' }) {
  return <div role={tone === 'danger' ? 'alert' : 'status'} className={cn('alert', `alert-${tone}`, className)} {...rest} />;
}
