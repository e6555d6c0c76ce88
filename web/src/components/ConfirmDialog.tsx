import { useRef, type ReactNode } from 'react';
import { Dialog } from './ui/dialog';
import { Button } from './ui/button';
import { Alert } from './ui/alert';

/** "Delete X?" with Cancel focused first; the caller runs the action and passes its state. */
export function ConfirmDialog({
  open,
  title,
  description,
  confirm = 'Delete',
  pending,
  error,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  description?: ReactNode;
  confirm?: string;
  pending?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Dialog open={open} onClose={onClose} title={title} description={description} initialFocus={cancelRef as React.RefObject<HTMLElement>}>
      {error && <Alert tone="danger">{error}</Alert>}
      <div className="dialog-actions">
        <Button ref={cancelRef} variant="secondary" onClick={onClose}>
          Cancel
        </Button>
        <Button variant="danger" loading={pending} onClick={onConfirm}>
          {confirm}
        </Button>
      </div>
    </Dialog>
  );
}
