import { useRef } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import type { Endpoint } from '../lib/types';
import { Dialog } from './ui/dialog';
import { Button } from './ui/button';
import { Alert } from './ui/alert';

export function DeleteEndpointDialog({
  endpoint,
  onClose,
  onDeleted,
}: {
  endpoint: Endpoint | null;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const queryClient = useQueryClient();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const del = useMutation({
    mutationFn: async (id: string) => {
      await apiRequest('delete', '/api/endpoints/{id}/', { params: { id } });
    },
    onSuccess: async (_d, id) => {
      queryClient.removeQueries({ queryKey: ['checks', id] });
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
      onDeleted();
      close();
    },
  });
  function close() {
    del.reset();
    onClose();
  }
  return (
    <Dialog
      open={!!endpoint}
      onClose={close}
      title="Delete endpoint?"
      initialFocus={cancelRef as React.RefObject<HTMLElement>}
      description={
        endpoint ? (
          <>
            <strong>{endpoint.name}</strong> ({endpoint.url}) and its check history will be deleted. This cannot be undone.
          </>
        ) : undefined
      }
    >
      {del.isError && <Alert tone="danger">{parseApiError(del.error).detail ?? 'Could not delete it.'}</Alert>}
      <div className="dialog-actions">
        <Button ref={cancelRef} variant="secondary" onClick={close}>
          Cancel
        </Button>
        <Button variant="danger" loading={del.isPending} onClick={() => endpoint && del.mutate(endpoint.id)}>
          Delete
        </Button>
      </div>
    </Dialog>
  );
}
