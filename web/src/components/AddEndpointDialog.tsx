import { EndpointFormDialog } from './EndpointFormDialog';

/** The create form for an HTTP or TCP endpoint (src/components/EndpointFormDialog.tsx). */
export function AddEndpointDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return <EndpointFormDialog open={open} onClose={onClose} />;
}
