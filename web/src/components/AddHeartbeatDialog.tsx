// Creating a heartbeat monitor: a job (cron, backup, queue worker) that pings StatusWatch,
// expected every period or on a cron schedule in a time zone, with a grace period.
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { applyFieldErrors, parseApiError } from '../lib/api';
import { apiRequest } from '../lib/contract';
import type { EndpointCreate } from '../lib/types';
import { Dialog } from './ui/dialog';
import { Field } from './ui/input';
import { Button } from './ui/button';
import { Alert } from './ui/alert';

const browserZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

const schema = z
  .object({
    name: z.string().trim().min(1, 'Name the job.').max(200, 'At most 200 characters.'),
    schedule: z.enum(['period', 'cron']),
    period_seconds: z.coerce.number().int().min(60).max(31 * 86400),
    cron: z.string().trim(),
    tz: z.string().trim(),
    grace_minutes: z.coerce.number().int().min(0, 'At least 0.').max(1440, 'At most a day.'),
  })
  .superRefine((v, ctx) => {
    if (v.schedule === 'cron' && v.cron.split(/\s+/).filter(Boolean).length !== 5)
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'Five fields: minute hour day month weekday.' });
    if (v.schedule === 'cron' && !v.tz) ctx.addIssue({ code: 'custom', path: ['tz'], message: 'Enter a time zone, such as UTC.' });
  });
type Values = z.infer<typeof schema>;
const FIELDS = ['name', 'period_seconds', 'cron', 'tz', 'grace_seconds'] as const;

export function AddHeartbeatDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string[]>([]);
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { name: '', schedule: 'period', period_seconds: 86400, cron: '0 3 * * *', tz: browserZone(), grace_minutes: 5 },
  });
  const {
    register,
    handleSubmit,
    setError,
    reset,
    watch,
    formState: { errors },
  } = form;
  const schedule = watch('schedule');

  const create = useMutation({
    mutationFn: (v: Values) => {
      const body: EndpointCreate = { kind: 'heartbeat', name: v.name, grace_seconds: v.grace_minutes * 60 };
      if (v.schedule === 'cron') {
        body.cron = v.cron;
        body.tz = v.tz;
      } else {
        body.period_seconds = v.period_seconds;
      }
      return apiRequest('post', '/api/endpoints/', { body });
    },
    onSuccess: async (created) => {
      await queryClient.invalidateQueries({ queryKey: ['endpoints'] });
      close();
      if (created?.id) void navigate({ to: '/heartbeats/$id', params: { id: created.id } });
    },
    onError: (err) => {
      const info = parseApiError(err);
      setFormError(
        applyFieldErrors(info, FIELDS, (f: never, e) => {
          const name = f as string;
          setError(name === 'grace_seconds' ? 'grace_minutes' : (name as keyof Values), e);
        }),
      );
    },
  });

  function close() {
    reset();
    setFormError([]);
    create.reset();
    onClose();
  }

  return (
    <Dialog open={open} onClose={close} title="Add heartbeat" description="Your job pings StatusWatch; we tell you when a ping is late or reports a failure.">
      <form onSubmit={handleSubmit((v) => { setFormError([]); create.mutate(v); })} noValidate className="form">
        {formError.length > 0 && <Alert tone="danger">{formError.join(' ')}</Alert>}
        <Field label="Name" placeholder="Nightly backup" error={errors.name?.message} {...register('name')} />
        <fieldset className="field">
          <legend className="label">Expected</legend>
          <label className="radio">
            <input type="radio" value="period" {...register('schedule')} /> Every period
          </label>
          <label className="radio">
            <input type="radio" value="cron" {...register('schedule')} /> On a cron schedule
          </label>
        </fieldset>
        {schedule === 'period' ? (
          <div className="field">
            <label htmlFor="hb-period" className="label">
              Period
            </label>
            <select id="hb-period" className="input" {...register('period_seconds')}>
              <option value={60}>1 minute</option>
              <option value={300}>5 minutes</option>
              <option value={900}>15 minutes</option>
              <option value={3600}>1 hour</option>
              <option value={86400}>1 day</option>
              <option value={604800}>1 week</option>
            </select>
            {errors.period_seconds && <p className="field-error" role="alert">{errors.period_seconds.message}</p>}
          </div>
        ) : (
          <>
            <Field label="Cron expression" hint="minute hour day month weekday" placeholder="0 3 * * *" error={errors.cron?.message} {...register('cron')} />
            <Field label="Time zone" hint="An IANA zone, such as Europe/Berlin" error={errors.tz?.message} {...register('tz')} />
          </>
        )}
        <Field label="Grace (minutes)" type="number" min={0} max={1440} hint="How late a ping may be before it counts as missing" error={errors.grace_minutes?.message} {...register('grace_minutes')} />
        <div className="dialog-actions">
          <Button variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Add heartbeat
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
