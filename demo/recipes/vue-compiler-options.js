// Recipe: Vue 3 compiler options (in vite.config.js: `vue({ template: { compilerOptions } })`).
// #region readme
export const compilerOptions = {
  isCustomElement: (tag) => tag === 'konpro-widget-guard',
};
// #endregion readme
