"""Answers: the streamed answer of one question, chats and their messages, and the chat
models (OpenAI-compatible, local llama.cpp, extractive)."""
