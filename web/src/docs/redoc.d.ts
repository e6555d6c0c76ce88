// redoc ships no types for its standalone bundle (a UMD file that sets window.Redoc).
declare module 'redoc/bundles/redoc.standalone.js';
