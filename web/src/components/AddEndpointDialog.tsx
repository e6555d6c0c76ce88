import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { applyFieldErrors, parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import type { EndpointCreate } from '../lib/types';
import { Dialog } from './ui/dialog';
import { Field } from './ui/input';
import { Button } from './ui/button';
import { Alert } from './ui/alert';

const schema = z.object({
  // Optional, as the server has it: left empty, the endpoint is named after the URL's host.
  name: z.string().trim().max(200, 'At most 200 characters.'),
  url: z
    .string()
    .trim()
    .min(1, 'Enter the URL to monitor.')
    .max(2048, 'At most 2048 characters.')
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
      } catch {
        return false;
      }
    }, 'Enter a full http:// or https:// URL.'),
  interval_seconds: z.coerce.number().int().min(30, 'At least 30 seconds.').max(86400, 'At most a day.'),
});
type Values = z.infer<typeof schema>;
const FIELDS = ['name', 'url', 'interval_seconds'] as const;

export function AddEndpointDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<string[]>([]);
  const [planLimit, setPlanLimit] = useState(false);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { name: '', url: 'https://', interval_seconds: 60 },
  });
  const {
    register,
    handleSubmit,
    setError,
    reset,
    formState: { errors },
  } = form;

  const create = useMutation({
    mutationFn: (values: Values) => {
      const body: EndpointCreate = { url: values.url, interval_seconds: values.interval_seconds };
      if (values.name) body.name = values.name;
      return apiRequest('post', '/api/endpoints/', { body });
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
      close();
    },
    onError: (err) => {
      const info = parseApiError(err);
      setPlanLimit(info.code === 'plan_limit');
      setFormError(applyFieldErrors(info, FIELDS, setError));
    },
  });

  function close() {
    reset();
    setFormError([]);
    setPlanLimit(false);
    create.reset();
    onClose();
  }

  const onSubmit = handleSubmit((values) => {
    setFormError([]);
    setPlanLimit(false);
    create.mutate(values);
  });

  return (
    <Dialog open={open} onClose={close} title="Add endpoint" description="We will check it from every region and tell you when it goes down.">
      <form onSubmit={onSubmit} noValidate className="form">
        {formError.length > 0 && (
          <Alert tone="danger">
            {formError.join(' ')}
            {planLimit && (
              <>
                {' '}
                <Link to="/billing" className="link" onClick={() => onClose()}>
                  See plans and upgrade
                </Link>
              </>
            )}
          </Alert>
        )}
        <Field label="Name" hint="Optional: the URL's host when left empty" placeholder="Marketing site" error={errors.name?.message} {...register('name')} />
        <Field label="URL" type="url" inputMode="url" placeholder="https://example.com/health" error={errors.url?.message} {...register('url')} />
        <div className="field">
          <label htmlFor="interval" className="label">
            Check every
          </label>
          <select id="interval" className="input" {...register('interval_seconds')}>
            <option value={30}>30 seconds</option>
            <option value={60}>1 minute</option>
            <option value={300}>5 minutes</option>
            <option value={900}>15 minutes</option>
            <option value={3600}>1 hour</option>
          </select>
          {errors.interval_seconds && (
            <p className="field-error" role="alert">
              {errors.interval_seconds.message}
            </p>
          )}
        </div>
        <div className="dialog-actions">
          <Button variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Add endpoint
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
