import '@testing-library/jest-dom/vitest';
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';
import { useAuth } from '../lib/auth';

afterEach(() => {
  cleanup();
  useAuth.setState({ accessToken: null });
  sessionStorage.clear();
  localStorage.clear();
});

import { configure } from '@testing-library/react';
// Lazy route chunks load on first use; under a loaded CI machine that takes a while.
configure({ asyncUtilTimeout: 4000 });
window.scrollTo = (() => {}) as typeof window.scrollTo;
