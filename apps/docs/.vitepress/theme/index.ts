/** The default VitePress theme plus the runnable-example components. */
import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import BpExample from './components/BpExample.vue';
import './style.css';

const theme: Theme = {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('BpExample', BpExample);
  },
};

export default theme;
