"""What the kiosk says aloud in each step in 长辈模式 (elder mode), in Chinese and English.

Speech scripts, not screen text (that is the gettext catalogue in `views`): one short, plain
sentence a step, saying what to do next, for residents who cannot read small text. Keyed by the
statechart's leaf state names (`kiosk.ids.StateId`), as plain strings so that states still being
added to `StateId` can be scripted already. Fixed texts only - never a name or a number - so every
prompt can be pre-rendered once (`drivers.speech.render_clips(all_prompts(), folder)`).
"""

from __future__ import annotations

from collections.abc import Iterator

LANGUAGES = ("zh", "en")

# state -> (Chinese, English)
PROMPTS: dict[str, tuple[str, str]] = {
    "attract": (
        "请刷身份证，或点击屏幕开始。",
        "Please place your ID card on the reader, or touch the screen to start.",
    ),
    "await_identity": (
        "请把身份证放在读卡区，不要移动。",
        "Please lay your ID card flat on the reader and keep it still.",
    ),
    "verifying": ("正在核验身份，请稍等。", "Checking your identity. Please wait."),
    "categories": ("请选择要办理的事项类别。", "Please choose a category."),
    "items": ("请选择要办理的事项。", "Please choose a service."),
    "guide": (
        "这是办事指南，请看好后点击下方按钮。",
        "This is the guide. When you are ready, touch the button below.",
    ),
    "preparing": ("正在准备证明，请稍等。", "Preparing your certificate. Please wait."),
    "preview": (
        "请核对证明内容，无误后点击打印。",
        "Please check the certificate, then touch Print.",
    ),
    "printing": (
        "正在打印，请稍等，打印完请取走。",
        "Printing. Please wait, then take your paper.",
    ),
    "lookup_entry": (
        "请输入回执上的受理编号，或扫描回执上的二维码。",
        "Please type the number on your receipt, or scan its QR code.",
    ),
    "looking_up": ("正在查询，请稍等。", "Looking it up. Please wait."),
    "lookup_result": ("查询结果在屏幕上。", "The result is on the screen."),
    "ticketing": ("正在取号，请稍等。", "Getting your ticket. Please wait."),
    "ticket": (
        "请取走排队小票，留意叫号。",
        "Please take your ticket and listen for your number.",
    ),
    "rate": ("请为这次服务打分。", "Please rate this service."),
    "reasons": ("请选择不满意的原因。", "Please tell us what was not good."),
    "thanks": ("谢谢您，请带好随身物品。", "Thank you. Please take all your belongings."),
    # Fixed words: where the nearest staffed window is, is on the screen (it is site config).
    "out_of_service": (
        "本机暂停服务，请到人工窗口办理。",
        "This kiosk is out of service. Please go to a staffed service window. We are sorry.",
    ),
    # the application flow (申请)
    "loading_form": ("正在打开申请表，请稍等。", "Opening the application form. Please wait."),
    "apply_start": (
        "请选择为本人办理，还是代他人办理。",
        "Are you applying for yourself, or for someone else?",
    ),
    "principal": (
        "请放被代办人的身份证，或填写被代办人信息。",
        "Please place the ID card of the person you act for, or type in their details.",
    ),
    "face_check": (
        "请正对摄像头，保持不动。",
        "Please look straight at the camera and keep still.",
    ),
    "checking_face": ("正在核验人像，请稍等。", "Checking your photo. Please wait."),
    "form": ("请核对并填写申请信息。", "Please check and fill in the application."),
    "editing": ("请用屏幕上的键盘输入。", "Please type with the keyboard on the screen."),
    "documents": (
        "请把材料平放在拍摄区。",
        "Please lay your document flat under the camera.",
    ),
    "review": (
        "请核对信息，确认无误后点击提交。",
        "Please check everything, then touch Submit.",
    ),
    "submitting": ("正在提交，请稍等。", "Submitting. Please wait."),
    "submitted": (
        "申请已受理，请取走回执。",
        "Your application has been received. Please take your receipt.",
    ),
}


def prompt_for(state: str, language: str) -> str | None:
    """The spoken prompt for a state in "zh" or "en"; None when that step says nothing."""
    pair = PROMPTS.get(str(state))
    if pair is None or language not in LANGUAGES:
        return None
    return pair[LANGUAGES.index(language)]


def all_prompts() -> Iterator[tuple[str, str]]:
    """Every (text, language) the kiosk may say, for pre-rendering the clips at install."""
    for pair in PROMPTS.values():
        yield from zip(pair, LANGUAGES, strict=True)
