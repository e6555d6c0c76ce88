// Types of scripts/contract.mjs for the tests that import it.
export type Exchange = { source?: string; method: string; path: string; status: number; headers?: Record<string, string>; body?: string | null };
export type Contract = { doc: unknown };
export function loadContract(file?: string): Contract;
export function checkExchange(c: Contract, ex: Exchange): { ok?: true; skipped?: true; error?: string; tpl?: string; op?: string };
