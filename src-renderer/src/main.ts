import { createApp } from 'vue';
import './styles.css';
import './lib/theme';
import App from './App.vue';
import { debugHooks } from './lib/echarts';
import { injectEvent } from './api/client';

// Tests and the chart benchmark feed events through the same path live data takes.
debugHooks().injectEvent = injectEvent;

createApp(App).mount('#app');
