import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createAppQueryClient, createAppRouter } from './router';
import { initErrorReporting } from './lib/errorReporting';
import './styles.css';

const queryClient = createAppQueryClient();
const router = createAppRouter(queryClient);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App router={router} queryClient={queryClient} />
  </StrictMode>,
);

// Error reporting starts after the first render and only when the server configures a DSN.
void initErrorReporting();
