import { byId, setText } from './dom.js'
import { tokenStore } from './actions.js'

/** What the user confirmed. */
export interface Confirmation {
  readonly token: string
  /** Only when asked for and filled in. */
  readonly timeoutMs?: number
}

/** What to ask. */
export interface ConfirmRequest {
  readonly title: string
  readonly text: string
  /** Also ask for a shutdown timeout. */
  readonly askTimeout?: boolean
}

/**
 * Asks for confirmation and the admin token in a modal `<dialog>` (keyboard: Tab between fields, Enter confirms,
 * Escape cancels). Resolves undefined when cancelled. A confirmed token is kept for the tab.
 */
export function confirmAction(request: ConfirmRequest): Promise<Confirmation | undefined> {
  const dialog = byId('confirm', HTMLDialogElement)
  const token = byId('confirm-token', HTMLInputElement)
  const timeoutRow = byId('confirm-timeout', HTMLElement)
  const timeout = byId('confirm-timeout-ms', HTMLInputElement)
  const cancel = byId('confirm-cancel', HTMLButtonElement)
  const ok = byId('confirm-ok', HTMLButtonElement)
  setText(byId('confirm-title', HTMLElement), request.title)
  setText(byId('confirm-text', HTMLElement), request.text)
  timeoutRow.hidden = request.askTimeout !== true
  timeout.value = ''
  token.value = tokenStore.get()
  dialog.returnValue = ''
  return new Promise((resolve) => {
    const onCancel = () => dialog.close('cancel')
    cancel.addEventListener('click', onCancel)
    dialog.addEventListener(
      'close',
      () => {
        cancel.removeEventListener('click', onCancel)
        if (dialog.returnValue !== 'confirm') return resolve(undefined)
        const t = token.value.trim()
        if (t !== '') tokenStore.set(t)
        const ms = timeout.value.trim()
        resolve(request.askTimeout === true && ms !== '' ? { token: t, timeoutMs: Number(ms) } : { token: t })
      },
      { once: true },
    )
    dialog.showModal()
    ;(token.value === '' ? token : ok).focus()
  })
}
