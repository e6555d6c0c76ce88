import { create } from 'zustand';

// The access token lives in memory only (never localStorage/sessionStorage); a page
// reload restores the session through the httpOnly refresh cookie.
type AuthState = {
  accessToken: string | null;
  setAccessToken: (token: string | null) => void;
  clear: () => void;
};

export const useAuth = create<AuthState>((set) => ({
  accessToken: null,
  setAccessToken: (accessToken) => set({ accessToken }),
  clear: () => set({ accessToken: null }),
}));
