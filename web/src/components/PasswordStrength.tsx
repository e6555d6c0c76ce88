import { useEffect, useState } from 'react';
import type { Strength } from '../lib/strength';

// Loaded on first use (the user typing a password), once.
let loading: Promise<typeof import('../lib/strength')> | null = null;
export function loadStrength() {
  if (!loading) loading = import('../lib/strength');
  return loading;
}

const DEBOUNCE_MS = 300;
const LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

/** A strength meter with zxcvbn-ts's feedback; the server stays the authority. */
export function PasswordStrength({ password, userInputs }: { password: string; userInputs: string[] }) {
  const [result, setResult] = useState<Strength | null>(null);
  const inputs = userInputs.join('\n');
  useEffect(() => {
    if (!password) {
      setResult(null);
      return;
    }
    let live = true;
    // Rated once typing pauses: an estimate walks every dictionary, too much per keystroke.
    const timer = setTimeout(() => {
      loadStrength()
        .then((m) => {
          if (live) setResult(m.estimate(password, inputs ? inputs.split('\n') : []));
        })
        .catch(() => {
          /* no meter when the chunk cannot load: the rules and the server still apply */
        });
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, inputs]);

  if (!result) return null;
  const label = LABELS[result.score];
  return (
    <div className="pw-strength" data-score={result.score}>
      <div
        className="pw-strength-bar"
        role="meter"
        aria-label="Password strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={result.score}
        aria-valuetext={label}
      >
        <span />
      </div>
      <p className="pw-strength-label">
        Strength: <strong>{label}</strong>
        {result.warning ? ` — ${result.warning}` : ''}
      </p>
      {result.score < 3 && result.suggestions.length > 0 && (
        <ul className="pw-strength-tips">
          {result.suggestions.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
