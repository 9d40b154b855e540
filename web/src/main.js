import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router.js'
import { setUnauthenticatedHandler } from './api.js'
import { forget } from './session.js'
import './styles.css'

// The session expired or was ended elsewhere: forget it and go to the login page.
setUnauthenticatedHandler(() => {
  forget()
  const here = router.currentRoute.value
  if (!here.meta.public) router.replace({ name: 'login', query: { next: here.fullPath, expired: '1' } })
})

createApp(App).use(router).mount('#app')
