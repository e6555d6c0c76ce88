export function Logo() {
  return (
    <span className="logo">
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="7" className="logo-bg" />
        <path d="M5 17h6l3-8 4 14 3-6h6" className="logo-line" />
      </svg>
      <span className="logo-text">StatusWatch</span>
    </span>
  );
}
