import reflex as rx


class ProbeState(rx.State):
    count: int = 0

    @rx.event
    def bump(self):
        self.count += 1


def index() -> rx.Component:
    return rx.vstack(rx.heading("hello"), rx.button("bump", on_click=ProbeState.bump), rx.text(ProbeState.count))


def merchant_home() -> rx.Component:
    return rx.text("merchant ", rx.State.slug)


app = rx.App()
app.add_page(index, route="/")
app.add_page(merchant_home, route="/m/[slug]/home")
