import { Alert } from './ui/alert';
import type { ApiErrorInfo } from '../lib/api';

/** An API error as one alert: the detail, then every field's messages under its name. */
export function FormError({ info }: { info: ApiErrorInfo | null }) {
  if (!info) return null;
  const lines = Object.entries(info.fields).map(([f, m]) => `${f.replace(/_/g, ' ')}: ${m.join(' ')}`);
  return (
    <Alert tone="danger">
      {info.detail && <div>{info.detail}</div>}
      {lines.map((l) => (
        <div key={l}>{l}</div>
      ))}
    </Alert>
  );
}
