import { z } from 'zod';

// Mirrors the server's rule (actors/common/password.c): 12–128 characters with an
// uppercase and a lowercase letter, a digit and a special character. The server also
// refuses common passwords; that message comes back under the field.
export const passwordRules = [
  { id: 'length', label: '12–128 characters', test: (p: string) => p.length >= 12 && p.length <= 128 },
  { id: 'upper', label: 'An uppercase letter', test: (p: string) => /[A-Z]/.test(p) },
  { id: 'lower', label: 'A lowercase letter', test: (p: string) => /[a-z]/.test(p) },
  { id: 'digit', label: 'A digit', test: (p: string) => /[0-9]/.test(p) },
  { id: 'special', label: 'A special character', test: (p: string) => /[^A-Za-z0-9]/.test(p) },
] as const;

export const passwordSchema = z
  .string()
  .min(12, 'Password must contain at least 12 characters.')
  .max(128, 'Password must contain at most 128 characters.')
  .regex(/[A-Z]/, 'Password must contain at least one uppercase letter.')
  .regex(/[a-z]/, 'Password must contain at least one lowercase letter.')
  .regex(/[0-9]/, 'Password must contain at least one digit.')
  .regex(/[^A-Za-z0-9]/, 'Password must contain at least one special character.');

export const registerSchema = z
  .object({
    organization_name: z.string().trim().min(1, 'Enter your organization name.').max(100, 'At most 100 characters.'),
    email: z.string().trim().min(1, 'Enter your email.').email('Enter a valid email address.'),
    password: passwordSchema,
    password_confirm: z.string().min(1, 'Confirm your password.'),
  })
  .refine((v) => v.password === v.password_confirm, {
    path: ['password_confirm'],
    message: 'Passwords do not match.',
  });

export type RegisterValues = z.infer<typeof registerSchema>;
