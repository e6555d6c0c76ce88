-- Teams (issue 21): removing a member frees their email in the service-wide directory, so
-- the same person may later be invited again or sign up elsewhere. Written by sw-auth only.
GRANT DELETE ON public.user_directory TO sw_auth;
